//! The relay loop's system calls (`read`, `write`, `poll`, the clock), made with the
//! `syscall` instruction instead of through libc's wrappers.
//!
//! Why: a relaying monitor's memory is mostly code pages, and every page of a file mapping it
//! touches brings back the 64 KiB around it (the kernel's fault-around). libc's wrappers for
//! these calls sit in half a dozen distant 64 KiB windows of libc's text, each of them paid for
//! as long as the relay runs (the relay drops its clean file pages once it has read its state,
//! `super::trim`); inlined into the loop they cost nothing beyond the loop's own pages. The
//! loop's own functions carry `#[link_section = ".berth_relay"]`, which the linker gathers
//! into one output section beside `.text`, so they too share a few windows instead of lying
//! wherever their codegen unit put them.
//!
//! Only x86-64 has the instruction form here; elsewhere the same functions call libc.

use std::os::fd::RawFd;

#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn syscall3(n: libc::c_long, a: usize, b: usize, c: usize) -> isize {
    let ret: isize;
    // SAFETY: the Linux x86-64 system call convention (number in rax, arguments in rdi, rsi,
    // rdx; rcx and r11 clobbered). Every caller passes the arguments its call documents,
    // pointers to memory that lives for the duration of the call.
    unsafe {
        std::arch::asm!(
            "syscall",
            inlateout("rax") n as isize => ret,
            in("rdi") a,
            in("rsi") b,
            in("rdx") c,
            lateout("rcx") _,
            lateout("r11") _,
            options(nostack),
        );
    }
    ret
}

#[cfg(not(target_arch = "x86_64"))]
#[inline(always)]
fn syscall3(n: libc::c_long, a: usize, b: usize, c: usize) -> isize {
    // SAFETY: as above, through libc's generic wrapper (which sets errno; the value is turned
    // back into the kernel's -errno form).
    unsafe {
        let r = libc::syscall(n, a, b, c);
        if r < 0 {
            -(*libc::__errno_location() as isize)
        } else {
            r as isize
        }
    }
}

/// The kernel's answer: a count, or the error number.
fn answer(r: isize) -> Result<usize, i32> {
    if r < 0 {
        Err(-r as i32)
    } else {
        Ok(r as usize)
    }
}

/// `read(2)` into `buf`.
#[inline]
pub fn read(fd: RawFd, buf: &mut [u8]) -> Result<usize, i32> {
    answer(syscall3(
        libc::SYS_read,
        fd as usize,
        buf.as_mut_ptr() as usize,
        buf.len(),
    ))
}

/// `write(2)` of `buf`.
#[inline]
pub fn write(fd: RawFd, buf: &[u8]) -> Result<usize, i32> {
    answer(syscall3(
        libc::SYS_write,
        fd as usize,
        buf.as_ptr() as usize,
        buf.len(),
    ))
}

/// Writes all of `buf`, going on after an interrupted or short write.
#[link_section = ".berth_relay"]
pub fn write_all(fd: RawFd, mut buf: &[u8]) -> std::io::Result<()> {
    while !buf.is_empty() {
        match write(fd, buf) {
            Ok(0) => return Err(std::io::ErrorKind::WriteZero.into()),
            Ok(n) => buf = &buf[n..],
            Err(libc::EINTR) => {}
            Err(e) => return Err(std::io::Error::from_raw_os_error(e)),
        }
    }
    Ok(())
}

/// `poll(2)` over `fds`, `timeout_ms` < 0 waiting without limit. Returns how many are ready.
#[inline]
pub fn poll(fds: &mut [libc::pollfd], timeout_ms: i32) -> Result<usize, i32> {
    #[cfg(target_arch = "x86_64")]
    return answer(syscall3(
        libc::SYS_poll,
        fds.as_mut_ptr() as usize,
        fds.len(),
        timeout_ms as usize,
    ));
    #[cfg(not(target_arch = "x86_64"))]
    // SAFETY: poll reads and writes the `fds` slice, which lives for the call.
    unsafe {
        let r = libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, timeout_ms);
        if r < 0 {
            Err(*libc::__errno_location())
        } else {
            Ok(r as usize)
        }
    }
}

/// `madvise(addr, len, MADV_DONTNEED)`: drops the pages' table entries. The caller makes sure
/// nothing private is lost: only read-only file mappings, whose pages refault from the file.
#[inline]
pub fn madvise_dontneed(addr: usize, len: usize) {
    syscall3(libc::SYS_madvise, addr, len, libc::MADV_DONTNEED as usize);
}

/// `CLOCK_REALTIME` as seconds and nanoseconds since the epoch.
#[inline]
pub fn realtime() -> (i64, u32) {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    let r = syscall3(
        libc::SYS_clock_gettime,
        libc::CLOCK_REALTIME as usize,
        &mut ts as *mut libc::timespec as usize,
        0,
    );
    if r < 0 {
        return (0, 0);
    }
    (ts.tv_sec, ts.tv_nsec as u32)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::AsRawFd;

    #[test]
    fn pipe_round_trip_and_errors() {
        let (r, w) = nix::unistd::pipe().unwrap();
        write_all(w.as_raw_fd(), b"hello").unwrap();
        let mut fds = [libc::pollfd {
            fd: r.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        }];
        assert_eq!(poll(&mut fds, 1000), Ok(1));
        assert_ne!(fds[0].revents & libc::POLLIN, 0);
        let mut buf = [0u8; 16];
        assert_eq!(read(r.as_raw_fd(), &mut buf), Ok(5));
        assert_eq!(&buf[..5], b"hello");
        // Nothing more within 10 ms.
        assert_eq!(poll(&mut fds, 10), Ok(0));
        assert_eq!(read(-1, &mut buf), Err(libc::EBADF));
        drop(r);
        assert_eq!(
            write_all(w.as_raw_fd(), b"x").unwrap_err().raw_os_error(),
            Some(libc::EPIPE)
        );
    }

    #[test]
    fn realtime_is_the_system_clock() {
        let (secs, nanos) = realtime();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap();
        assert!(nanos < 1_000_000_000);
        assert!((now.as_secs() as i64 - secs).abs() <= 1);
    }
}
