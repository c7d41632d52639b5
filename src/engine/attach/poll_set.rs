//! The attach server's `poll` set: the descriptors of one turn of the loop and what each stands
//! for, kept in the server and refilled every turn, so that a relaying monitor allocates
//! nothing while it relays (and polls through `engine::monitor::rawsys`, not libc).

use std::os::fd::RawFd;

/// What a polled descriptor is.
#[derive(Clone, Copy)]
pub(super) enum Slot {
    Output(usize),
    Pid,
    Listener,
    Stdin,
    Client(usize),
}

#[derive(Default)]
pub(super) struct PollSet {
    fds: Vec<libc::pollfd>,
    slots: Vec<Slot>,
}

impl PollSet {
    #[link_section = ".berth_relay"]
    pub(super) fn clear(&mut self) {
        self.fds.clear();
        self.slots.clear();
    }

    #[link_section = ".berth_relay"]
    pub(super) fn add(&mut self, fd: RawFd, events: libc::c_short, slot: Slot) {
        self.fds.push(libc::pollfd {
            fd,
            events,
            revents: 0,
        });
        self.slots.push(slot);
    }

    /// Waits (`timeout_ms` < 0: without limit); `Err(errno)` when poll failed (`EINTR` is a
    /// turn with nothing ready).
    #[link_section = ".berth_relay"]
    pub(super) fn wait(&mut self, timeout_ms: i32) -> Result<(), i32> {
        match crate::engine::monitor::rawsys::poll(&mut self.fds, timeout_ms) {
            Ok(_) => Ok(()),
            Err(libc::EINTR) => {
                for f in &mut self.fds {
                    f.revents = 0;
                }
                Ok(())
            }
            Err(e) => Err(e),
        }
    }

    /// Room for `n` descriptors without allocating.
    #[link_section = ".berth_relay"]
    pub(super) fn reserve(&mut self, n: usize) {
        self.fds.reserve(n);
        self.slots.reserve(n);
    }

    pub(super) fn len(&self) -> usize {
        self.fds.len()
    }

    /// The `i`th descriptor's slot and returned events.
    #[link_section = ".berth_relay"]
    pub(super) fn get(&self, i: usize) -> (Slot, libc::c_short) {
        (self.slots[i], self.fds[i].revents)
    }
}
