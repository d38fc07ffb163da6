//! Which machine a binary is for, and how it runs on this one: a bootstrap of this machine's
//! architecture runs itself; an arm64 bootstrap (what deploys) on an x86_64 machine runs under
//! QEMU's user-mode emulator with the arm64 C library, Debian's `qemu-user-static` and
//! `libc6-arm64-cross`, which `./scripts/test` installs.

use std::{
    io,
    path::{Path, PathBuf},
};

use tokio::process::Command;

/// Where `libc6-arm64-cross` keeps the arm64 loader and C library: QEMU's `-L` prefix.
pub const ARM64_SYSROOT: &str = "/usr/aarch64-linux-gnu";
/// QEMU's arm64 user-mode emulators, in the order they are looked for on `PATH`.
const QEMU_ARM64: [&str; 2] = ["qemu-aarch64-static", "qemu-aarch64"];

/// The Lambda architecture of an ELF executable (`e_machine`, little-endian at offset 18).
pub fn elf_architecture(bytes: &[u8]) -> Option<&'static str> {
    if bytes.get(..4)? != b"\x7fELF" {
        return None;
    }
    match u16::from_le_bytes([*bytes.get(18)?, *bytes.get(19)?]) {
        0x3e => Some("x86_64"),
        0xb7 => Some("arm64"),
        _ => None,
    }
}

/// This machine's Lambda architecture.
pub fn host_architecture() -> &'static str {
    match std::env::consts::ARCH {
        "aarch64" => "arm64",
        other => other,
    }
}

/// The command that runs `bootstrap` here: the bootstrap itself when it is of this machine's
/// architecture, else under QEMU. An error says what to install.
pub fn command_for(bootstrap: &Path) -> io::Result<Command> {
    let mut header = [0u8; 20];
    std::io::Read::read_exact(&mut std::fs::File::open(bootstrap)?, &mut header)?;
    let architecture = elf_architecture(&header);
    if architecture.is_none_or(|architecture| architecture == host_architecture()) {
        return Ok(Command::new(bootstrap));
    }
    let unsupported = || {
        io::Error::new(
            io::ErrorKind::Unsupported,
            format!(
                "{} is an arm64 program and this machine is {}: install Debian's \
                 qemu-user-static and libc6-arm64-cross to run it",
                bootstrap.display(),
                host_architecture()
            ),
        )
    };
    if architecture != Some("arm64") {
        return Err(unsupported());
    }
    let qemu = qemu_arm64().ok_or_else(unsupported)?;
    if !Path::new(ARM64_SYSROOT).join("lib").is_dir() {
        return Err(unsupported());
    }
    let mut command = Command::new(qemu);
    command.arg("-L").arg(ARM64_SYSROOT).arg(bootstrap);
    Ok(command)
}

/// Whether a program of `architecture` can run here: natively, or arm64 under QEMU.
pub fn can_run(architecture: &str) -> bool {
    architecture == host_architecture()
        || (architecture == "arm64"
            && qemu_arm64().is_some()
            && Path::new(ARM64_SYSROOT).join("lib").is_dir())
}

/// QEMU's arm64 user-mode emulator on `PATH`, if there is one.
fn qemu_arm64() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|dir| QEMU_ARM64.iter().map(move |name| dir.join(name)))
        .find(|candidate| candidate.is_file())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(machine: u16) -> Vec<u8> {
        let mut bytes = b"\x7fELF".to_vec();
        bytes.resize(18, 0);
        bytes.extend_from_slice(&machine.to_le_bytes());
        bytes
    }

    #[test]
    fn reads_the_machine_of_an_elf_header() {
        assert_eq!(elf_architecture(&header(0x3e)), Some("x86_64"));
        assert_eq!(elf_architecture(&header(0xb7)), Some("arm64"));
        assert_eq!(elf_architecture(&header(0x28)), None);
        assert_eq!(elf_architecture(b"#!/bin/sh\n"), None);
        assert_eq!(elf_architecture(b"\x7fEL"), None);
    }

    #[test]
    fn this_test_binary_is_of_its_own_architecture_and_runs_as_itself() {
        let me = std::env::current_exe().unwrap();
        assert_eq!(
            elf_architecture(&std::fs::read(&me).unwrap()),
            Some(host_architecture())
        );
        assert!(can_run(host_architecture()));
        let command = command_for(&me).unwrap();
        assert_eq!(command.as_std().get_program(), me.as_os_str());
        assert_eq!(command.as_std().get_args().count(), 0);
    }

    #[test]
    fn a_program_of_another_machine_runs_under_qemu_or_says_what_to_install() {
        if host_architecture() != "x86_64" {
            return;
        }
        let dir = std::env::temp_dir().join(format!("machine-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let arm64 = dir.join("bootstrap");
        std::fs::write(&arm64, header(0xb7)).unwrap();
        match command_for(&arm64) {
            Ok(command) => {
                assert!(can_run("arm64"));
                let program = PathBuf::from(command.as_std().get_program());
                assert!(QEMU_ARM64.iter().any(|name| program.ends_with(name)));
                let args: Vec<&std::ffi::OsStr> = command.as_std().get_args().collect();
                let expected: [&std::ffi::OsStr; 3] =
                    ["-L".as_ref(), ARM64_SYSROOT.as_ref(), arm64.as_os_str()];
                assert_eq!(args, expected);
            }
            Err(error) => {
                assert!(!can_run("arm64"));
                assert!(error.to_string().contains("qemu-user-static"), "{error}");
            }
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
