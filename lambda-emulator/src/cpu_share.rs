//! Lambda gives a function CPU in proportion to its memory: one full vCPU at 1,769 MB
//! (<https://docs.aws.amazon.com/lambda/latest/dg/configuration-memory.html>). A CPU cgroup
//! with a CFS quota gives a process here the same share, so a benchmark can show what a
//! memory size costs in time. Needs root and a cgroup v1 `cpu` or a cgroup v2 hierarchy.

use std::{
    fs, io,
    path::{Path, PathBuf},
};

/// Memory at which Lambda gives one full vCPU.
pub const FULL_VCPU_MB: u32 = 1769;

/// Lambda's CPU share for `memory_mb`, as a fraction of one vCPU (at most 1).
pub fn lambda_cpu_share(memory_mb: u32) -> f64 {
    (f64::from(memory_mb) / f64::from(FULL_VCPU_MB)).min(1.0)
}

/// CFS period: short, so a short burst of work is throttled like a long one.
const PERIOD_US: u64 = 10_000;

/// A CPU cgroup limited to a share of one CPU; removed when dropped (once empty).
pub struct CpuLimit {
    directory: PathBuf,
    version: Version,
}

enum Version {
    V1,
    V2,
}

impl CpuLimit {
    pub fn new(share: f64) -> io::Result<Self> {
        let name = format!("lambda-emulator-{}", uuid::Uuid::new_v4());
        let quota_us = ((share * PERIOD_US as f64).round() as u64).max(1000);
        let v2 = Path::new("/sys/fs/cgroup/cgroup.controllers");
        let (directory, version) = if v2.exists() {
            (Path::new("/sys/fs/cgroup").join(name), Version::V2)
        } else {
            (Path::new("/sys/fs/cgroup/cpu").join(name), Version::V1)
        };
        fs::create_dir(&directory)?;
        let limit = Self { directory, version };
        match limit.version {
            Version::V2 => limit.write("cpu.max", &format!("{quota_us} {PERIOD_US}"))?,
            Version::V1 => {
                limit.write("cpu.cfs_period_us", &PERIOD_US.to_string())?;
                limit.write("cpu.cfs_quota_us", &quota_us.to_string())?;
            }
        }
        Ok(limit)
    }

    /// Moves the process `pid` into the cgroup.
    pub fn add(&self, pid: u32) -> io::Result<()> {
        self.write("cgroup.procs", &pid.to_string())
    }

    fn write(&self, file: &str, value: &str) -> io::Result<()> {
        fs::write(self.directory.join(file), value)
    }
}

impl Drop for CpuLimit {
    fn drop(&mut self) {
        let _ = fs::remove_dir(&self.directory);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_share_grows_with_memory_up_to_one_vcpu() {
        assert!((lambda_cpu_share(128) - 0.0724).abs() < 0.0001);
        assert!((lambda_cpu_share(1024) - 0.5789).abs() < 0.0001);
        assert_eq!(lambda_cpu_share(FULL_VCPU_MB), 1.0);
        assert_eq!(lambda_cpu_share(10_240), 1.0);
    }
}
