//! Which machine a binary is for: a bootstrap built for arm64 cannot run here, and the sizes
//! are reported per architecture.

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
    fn this_test_binary_is_of_its_own_architecture() {
        let me = std::fs::read(std::env::current_exe().unwrap()).unwrap();
        let expected = match std::env::consts::ARCH {
            "aarch64" => "arm64",
            other => other,
        };
        assert_eq!(elf_architecture(&me), Some(expected));
    }
}
