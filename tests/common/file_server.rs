//! A minimal HTTP/1.1 file server on a free 127.0.0.1 port, for `ADD URL` and `import URL`:
//! each path serves fixed bytes (with a `Last-Modified`), anything else is a 404. It counts the
//! requests it answered and stops when dropped.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// A running server.
pub struct FileServer {
    port: u16,
    stop: Arc<AtomicBool>,
    files: Arc<Mutex<HashMap<String, Vec<u8>>>>,
    hits: Arc<AtomicUsize>,
    thread: Option<std::thread::JoinHandle<()>>,
}

/// `Last-Modified` every file is served with.
pub const LAST_MODIFIED: &str = "Tue, 14 Nov 2023 22:13:20 GMT";
/// The same time in seconds since the epoch.
pub const LAST_MODIFIED_SECS: i64 = 1_700_000_000;

impl FileServer {
    /// Starts serving nothing.
    pub fn start() -> FileServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let stop = Arc::new(AtomicBool::new(false));
        let files: Arc<Mutex<HashMap<String, Vec<u8>>>> = Arc::default();
        let hits = Arc::new(AtomicUsize::new(0));
        let (s, f, h) = (stop.clone(), files.clone(), hits.clone());
        let thread = std::thread::spawn(move || {
            while !s.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((conn, _)) => {
                        conn.set_nonblocking(false).unwrap();
                        serve(conn, &f, &h);
                    }
                    Err(_) => std::thread::sleep(std::time::Duration::from_millis(10)),
                }
            }
        });
        FileServer {
            port,
            stop,
            files,
            hits,
            thread: Some(thread),
        }
    }

    /// Serves `data` at `path` (starting with `/`).
    pub fn put(&self, path: &str, data: &[u8]) {
        self.files
            .lock()
            .unwrap()
            .insert(path.to_string(), data.to_vec());
    }

    /// `http://127.0.0.1:PORT` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// Requests answered so far.
    pub fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }
}

fn serve(conn: TcpStream, files: &Mutex<HashMap<String, Vec<u8>>>, hits: &AtomicUsize) {
    let mut reader = BufReader::new(conn.try_clone().unwrap());
    let mut request = String::new();
    if reader.read_line(&mut request).is_err() {
        return;
    }
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" || line == "\n" {
            break;
        }
    }
    let path = request.split_whitespace().nth(1).unwrap_or("/").to_string();
    let path = path.split('?').next().unwrap_or("/").to_string();
    let body = files.lock().unwrap().get(&path).cloned();
    hits.fetch_add(1, Ordering::SeqCst);
    let mut conn = conn;
    let _ = match body {
        Some(b) => {
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nLast-Modified: {LAST_MODIFIED}\r\n\
                 Content-Type: application/octet-stream\r\nConnection: close\r\n\r\n",
                b.len()
            );
            conn.write_all(head.as_bytes())
                .and_then(|_| conn.write_all(&b))
        }
        None => conn
            .write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"),
    };
}

impl Drop for FileServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
