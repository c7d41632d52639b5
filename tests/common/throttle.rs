//! A loopback TCP proxy that slows the bytes coming back from a registry, so a test can catch a
//! pull in the middle of a layer (kill it, then check resume and cleanup).
//!
//! `ThrottledProxy::start(registry.addr(), bytes_per_sec)` listens on 127.0.0.1:<free port>; a
//! client pulls `PROXY_ADDR/repo:tag` and everything it sends goes to the registry unchanged,
//! while the answers come back at most `bytes_per_sec`, per connection. Drop stops accepting,
//! shuts down every open connection and joins all threads.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Bytes are forwarded in slices of this size, each followed by the sleep the rate demands.
const SLICE: usize = 16 * 1024;

#[derive(Default)]
struct Shared {
    stop: AtomicBool,
    /// Bytes sent back to clients so far.
    sent: AtomicU64,
    /// Every socket still open, to shut down in Drop.
    sockets: Mutex<Vec<TcpStream>>,
    threads: Mutex<Vec<JoinHandle<()>>>,
}

pub struct ThrottledProxy {
    addr: SocketAddr,
    shared: Arc<Shared>,
    acceptor: Option<JoinHandle<()>>,
}

impl ThrottledProxy {
    /// Proxies to `upstream` ("127.0.0.1:PORT"), answers throttled to `bytes_per_sec`.
    pub fn start(upstream: &str, bytes_per_sec: u64) -> ThrottledProxy {
        let upstream: SocketAddr = upstream.parse().expect("upstream is IP:PORT");
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind proxy on loopback");
        let addr = listener.local_addr().expect("proxy address");
        let shared = Arc::new(Shared::default());
        let acceptor = {
            let shared = shared.clone();
            std::thread::spawn(move || {
                for conn in listener.incoming() {
                    if shared.stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(client) = conn else { continue };
                    let Ok(server) = TcpStream::connect(upstream) else {
                        continue;
                    };
                    connect_pair(&shared, client, server, bytes_per_sec.max(1));
                }
            })
        };
        ThrottledProxy {
            addr,
            shared,
            acceptor: Some(acceptor),
        }
    }

    /// "127.0.0.1:PORT" of the proxy: use it in place of the registry's address.
    pub fn addr(&self) -> String {
        self.addr.to_string()
    }

    /// Bytes sent back to clients so far.
    pub fn bytes_sent(&self) -> u64 {
        self.shared.sent.load(Ordering::SeqCst)
    }
}

/// Starts the two copy threads of one proxied connection.
fn connect_pair(shared: &Arc<Shared>, client: TcpStream, server: TcpStream, rate: u64) {
    let clones = (
        client.try_clone(),
        server.try_clone(),
        client.try_clone(),
        server.try_clone(),
    );
    let (Ok(c2), Ok(s2), Ok(c3), Ok(s3)) = clones else {
        return;
    };
    if let Ok(mut sockets) = shared.sockets.lock() {
        sockets.push(c3);
        sockets.push(s3);
    }
    let up = std::thread::spawn(move || copy(client, server, None, None));
    let down = {
        let shared = shared.clone();
        std::thread::spawn(move || copy(s2, c2, Some(rate), Some(&shared.sent)))
    };
    if let Ok(mut threads) = shared.threads.lock() {
        threads.push(up);
        threads.push(down);
    }
}

/// Copies `from` to `to` (at most `rate` bytes a second when given) until either side closes,
/// then shuts both down so the opposite direction ends too.
fn copy(mut from: TcpStream, mut to: TcpStream, rate: Option<u64>, sent: Option<&AtomicU64>) {
    // Small enough slices that one sleep stays near 100 ms.
    let slice = rate.map_or(SLICE, |r| (r / 10).clamp(512, SLICE as u64) as usize);
    let mut buf = vec![0u8; slice];
    let start = Instant::now();
    let mut total: u64 = 0;
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        // Counted before the write, so a client that has read the bytes always sees them counted.
        if let Some(sent) = sent {
            sent.fetch_add(n as u64, Ordering::SeqCst);
        }
        if to.write_all(&buf[..n]).is_err() {
            break;
        }
        total += n as u64;
        if let Some(rate) = rate {
            let due = Duration::from_secs_f64(total as f64 / rate as f64);
            if let Some(wait) = due.checked_sub(start.elapsed()) {
                std::thread::sleep(wait);
            }
        }
    }
    let _ = from.shutdown(Shutdown::Both);
    let _ = to.shutdown(Shutdown::Both);
}

impl Drop for ThrottledProxy {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        if let Some(a) = self.acceptor.take() {
            let _ = a.join();
        }
        if let Ok(mut sockets) = self.shared.sockets.lock() {
            for s in sockets.drain(..) {
                let _ = s.shutdown(Shutdown::Both);
            }
        }
        let threads: Vec<_> = match self.shared.threads.lock() {
            Ok(mut t) => t.drain(..).collect(),
            Err(_) => Vec::new(),
        };
        for t in threads {
            let _ = t.join();
        }
    }
}
