//! Free loopback ports for the sandbox's servers.
//!
//! The kernel picks them (bind `127.0.0.1:0`); every port handed out is remembered for the life of
//! the process so two sandboxes started by the same test binary never get the same one. Another
//! process can still grab a port between our pick and the server's bind, so the starters retry
//! with fresh ports when a server reports "Address already in use".

use std::collections::HashSet;
use std::net::{Ipv4Addr, TcpListener};
use std::sync::{Mutex, OnceLock};

use anyhow::{Context, Result};

/// Attempts per wanted port before giving up (the kernel rarely repeats itself).
const ATTEMPTS_PER_PORT: usize = 50;

fn handed_out() -> &'static Mutex<HashSet<u16>> {
    static PORTS: OnceLock<Mutex<HashSet<u16>>> = OnceLock::new();
    PORTS.get_or_init(|| Mutex::new(HashSet::new()))
}

/// `n` distinct free loopback ports, none handed out before by this process.
pub fn pick(n: usize) -> Result<Vec<u16>> {
    let mut taken = handed_out().lock().map_err(|_| anyhow::anyhow!("port registry poisoned"))?;
    // Keep every listener open until all ports are chosen so the kernel cannot repeat one.
    let mut listeners = Vec::with_capacity(n);
    let mut ports = Vec::with_capacity(n);
    for _ in 0..n * ATTEMPTS_PER_PORT {
        if ports.len() == n {
            break;
        }
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).context("binding a free port on 127.0.0.1")?;
        let port = listener.local_addr().context("reading bound port")?.port();
        if taken.insert(port) {
            ports.push(port);
        }
        listeners.push(listener);
    }
    anyhow::ensure!(ports.len() == n, "could not find {n} free loopback ports");
    Ok(ports)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_are_distinct_and_never_repeated() {
        let a = pick(9).unwrap();
        let b = pick(9).unwrap();
        let all: HashSet<u16> = a.iter().chain(&b).copied().collect();
        assert_eq!(all.len(), 18);
        assert!(all.iter().all(|&p| p != 0));
    }

    #[test]
    fn picked_port_can_be_bound() {
        let port = pick(1).unwrap()[0];
        TcpListener::bind((Ipv4Addr::LOCALHOST, port)).unwrap();
    }
}
