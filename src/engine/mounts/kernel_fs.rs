//! What may be mounted on `/proc` and `/sys` (runc's rule after CVE-2019-19921): `/proc` only
//! the container's own procfs, and below it only binds on the few files lxcfs emulates; `/sys`
//! only sysfs, and below it only the cgroup filesystem at `/sys/fs/cgroup`. A volume or tmpfs
//! on `/proc` would leave the container with an empty or forged `/proc` (and hide the masked
//! paths that keep the host's kernel interfaces out of reach).

/// Files below `/proc` a bind mount may cover (what lxcfs provides; runc's list).
pub const ALLOWED_UNDER_PROC: &[&str] = &[
    "cpuinfo",
    "diskstats",
    "meminfo",
    "stat",
    "swaps",
    "uptime",
    "loadavg",
    "slabinfo",
    "sys/kernel/ns_last_pid",
    "sys/crypto/fips_enabled",
];

/// Where `dest` lies relative to `/proc` and `/sys` as the container sees them (`proc_at`,
/// `sys_at`: where those resolve in its rootfs, normally `/proc` and `/sys`).
pub enum Place<'a> {
    /// Neither at nor below `/proc` or `/sys`.
    Elsewhere,
    /// At `/proc` (empty rest) or below it (`rest` relative to it).
    Proc(&'a str),
    /// At `/sys` (empty rest) or below it.
    Sys(&'a str),
}

fn below<'a>(dest: &'a str, dir: &str) -> Option<&'a str> {
    if dir == "/" {
        return Some(dest.trim_start_matches('/'));
    }
    let rest = dest.strip_prefix(dir)?;
    if rest.is_empty() {
        Some("")
    } else {
        rest.strip_prefix('/')
    }
}

/// Classifies the (clean, absolute) `dest`.
pub fn place<'a>(dest: &'a str, proc_at: &str, sys_at: &str) -> Place<'a> {
    if let Some(rest) = below(dest, proc_at) {
        Place::Proc(rest)
    } else if let Some(rest) = below(dest, sys_at) {
        Place::Sys(rest)
    } else {
        Place::Elsewhere
    }
}

/// Checks a mount of type `kind` (`proc`, `sysfs`, `cgroup`, `bind`, `tmpfs`, …) at `dest`;
/// the error says what is wrong and what to do.
pub fn check(kind: &str, dest: &str, proc_at: &str, sys_at: &str) -> Result<(), String> {
    let ok = match place(dest, proc_at, sys_at) {
        Place::Elsewhere => return Ok(()),
        Place::Proc("") => kind == "proc",
        Place::Proc(rest) => kind == "bind" && ALLOWED_UNDER_PROC.contains(&rest),
        Place::Sys("") => kind == "sysfs",
        Place::Sys(rest) => kind == "cgroup" && rest == "fs/cgroup",
    };
    if ok {
        return Ok(());
    }
    let (fs, what) = match place(dest, proc_at, sys_at) {
        Place::Proc(_) => (
            "/proc",
            "only the container's own procfs may be mounted there (and below it only binds on \
             files lxcfs provides, such as /proc/meminfo)",
        ),
        _ => (
            "/sys",
            "only the container's own sysfs and cgroup filesystem may be mounted there",
        ),
    };
    Err(format!(
        "cannot mount on {dest}: it is {fs} or below it, and {what}; choose another destination"
    ))
}

/// The check for a mount the user asked for (`-v`, `--mount`, `--tmpfs`, an image `VOLUME`),
/// whose kind is not known yet: `/sys` and below are refused, `/proc` too except the lxcfs files.
pub fn check_user_destination(dest: &str) -> Result<(), String> {
    check("bind", dest, "/proc", "/sys")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proc_and_sys_take_only_their_own_filesystems() {
        assert!(check("proc", "/proc", "/proc", "/sys").is_ok());
        assert!(check("bind", "/proc", "/proc", "/sys").is_err());
        assert!(check("tmpfs", "/proc/sys", "/proc", "/sys").is_err());
        assert!(check("bind", "/proc/meminfo", "/proc", "/sys").is_ok());
        assert!(check("tmpfs", "/proc/meminfo", "/proc", "/sys").is_err());
        assert!(check("bind", "/processes", "/proc", "/sys").is_ok());
        assert!(check("sysfs", "/sys", "/proc", "/sys").is_ok());
        assert!(check("cgroup", "/sys/fs/cgroup", "/proc", "/sys").is_ok());
        assert!(check("bind", "/sys/fs/cgroup", "/proc", "/sys").is_err());
        assert!(check("bind", "/system", "/proc", "/sys").is_ok());
        // The image's /proc is a symlink to /kproc: that is where procfs goes.
        assert!(check("bind", "/kproc/x", "/kproc", "/sys").is_err());
        assert!(check("proc", "/kproc", "/kproc", "/sys").is_ok());
        let e = check_user_destination("/proc").unwrap_err();
        assert!(e.contains("cannot mount on /proc"), "{e}");
    }
}
