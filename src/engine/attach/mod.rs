//! Attaching to a container's (or an exec's) process: the framed protocol ([`frame`]), the
//! monitor's I/O loop and attach socket server ([`server`]), the attach directory and its
//! path-based sockets ([`socket`]), the process's streams ([`stdio`]), and the client side
//! ([`client`] blocking, [`session`] async for the TUI, as `Engine` methods in [`api`]).

pub mod api;
pub mod client;
pub mod frame;
mod poll_set;
pub mod server;
mod server_state;
pub mod session;
pub mod socket;
pub mod stdio;

#[cfg(test)]
mod tests;
