//! A byte relay from a chosen local port to the mock server's own port
//! (httpmock's in-process server always takes a free port of its own).

use std::io;
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;

/// A byte relay from a chosen local port to the mock server's own port.
pub(crate) struct Relay {
    stop: Arc<AtomicBool>,
    addr: SocketAddr,
}

impl Relay {
    pub(crate) fn spawn(listener: TcpListener, target: SocketAddr) -> io::Result<Relay> {
        let addr = listener.local_addr()?;
        let stop = Arc::new(AtomicBool::new(false));
        let stop_flag = stop.clone();
        thread::Builder::new()
            .name("sela-sandbox-relay".into())
            .spawn(move || {
                for incoming in listener.incoming() {
                    if stop_flag.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(client) = incoming else { continue };
                    let _ = thread::Builder::new()
                        .name("sela-sandbox-conn".into())
                        .spawn(move || relay_connection(client, target));
                }
            })?;
        Ok(Relay { stop, addr })
    }

    pub(crate) fn stop(self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(self.addr);
    }
}

fn relay_connection(client: TcpStream, target: SocketAddr) {
    let Ok(upstream) = TcpStream::connect(target) else {
        let _ = client.shutdown(Shutdown::Both);
        return;
    };
    let _ = client.set_nodelay(true);
    let _ = upstream.set_nodelay(true);
    let (Ok(client_read), Ok(upstream_write)) = (client.try_clone(), upstream.try_clone()) else {
        return;
    };
    let forward = thread::Builder::new()
        .name("sela-sandbox-pipe".into())
        .spawn(move || pipe(client_read, upstream_write));
    pipe(upstream, client);
    if let Ok(handle) = forward {
        let _ = handle.join();
    }
}

fn pipe(mut from: TcpStream, mut to: TcpStream) {
    // Ends at end of stream or at the first error of either side.
    let _ = io::copy(&mut from, &mut to);
    let _ = to.shutdown(Shutdown::Write);
    let _ = from.shutdown(Shutdown::Read);
}
