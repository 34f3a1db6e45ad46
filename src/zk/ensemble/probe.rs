//! Asking one member about itself: the four-letter words `srvr` and `mntr` on its client port
//! (connect, write four bytes, read to the end), else its AdminServer (`GET /commands/srvr`
//! and `/commands/mntr`, JSON), each within a bounded time; and when neither answers, why.

use std::time::Duration;

use serde::Serialize;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::members::{address, Member};
use super::stats::{from_admin, parse_mntr, parse_srvr, MemberStats, Mode};
use super::EnsembleOptions;

/// Longest wait for one four-letter word or one AdminServer request: connecting, asking and
/// reading the answer. A healthy member answers in milliseconds; one that takes a second is
/// reported as not answering rather than holding the screen.
pub const ASK_TIMEOUT_MS: u64 = 1_000;
/// Most bytes read from one answer (`mntr` is about 20 KB on ZooKeeper 3.8).
const MAX_ANSWER_BYTES: u64 = 1 << 20;

/// How a member's numbers were read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Via {
    /// `srvr` and `mntr` on the client port.
    FourLetterWords,
    /// The AdminServer's `/commands/srvr` and `/commands/mntr`.
    AdminServer,
}

impl Via {
    pub fn label(self) -> &'static str {
        match self {
            Via::FourLetterWords => "4lw",
            Via::AdminServer => "admin",
        }
    }
}

/// What we could learn of a member.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Reach {
    /// It answered and serves clients.
    Serving,
    /// It answered that it is not serving requests (no quorum, or electing).
    NotServing,
    /// Nothing listens, or nothing answers in time.
    Down,
    /// It answers, but refuses to say (not whitelisted, no AdminServer): not judged.
    Unreadable,
}

impl Reach {
    pub fn label(self) -> &'static str {
        match self {
            Reach::Serving => "serving",
            Reach::NotServing => "not serving",
            Reach::Down => "down",
            Reach::Unreadable => "unreadable",
        }
    }
}

/// One member asked once.
#[derive(Debug, Clone, PartialEq)]
pub struct Probed {
    pub reach: Reach,
    pub via: Option<Via>,
    pub stats: Option<MemberStats>,
    /// Why it is down or unreadable, or what is missing from what it said.
    pub reason: Option<String>,
}

/// Why a request got no answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AskError {
    Refused,
    TimedOut(u64),
    Other(String),
}

impl std::fmt::Display for AskError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AskError::Refused => f.write_str("connection refused"),
            AskError::TimedOut(ms) => write!(f, "no answer within {ms} ms"),
            AskError::Other(e) => f.write_str(e),
        }
    }
}

impl AskError {
    /// Whether it says the member is not there (as opposed to refusing to talk).
    fn is_down(&self) -> bool {
        !matches!(self, AskError::Other(_))
    }
}

fn io_error(e: std::io::Error) -> AskError {
    match e.kind() {
        std::io::ErrorKind::ConnectionRefused => AskError::Refused,
        _ => AskError::Other(e.to_string()),
    }
}

/// Sends a four-letter word and reads the answer to the end.
pub async fn four_letter(host: &str, port: u16, word: &str, timeout: Duration) -> Result<String, AskError> {
    let ask = async {
        let mut stream = TcpStream::connect((host, port)).await.map_err(io_error)?;
        stream.write_all(word.as_bytes()).await.map_err(io_error)?;
        let mut out = Vec::new();
        stream.take(MAX_ANSWER_BYTES).read_to_end(&mut out).await.map_err(io_error)?;
        Ok(String::from_utf8_lossy(&out).into_owned())
    };
    tokio::time::timeout(timeout, ask).await.unwrap_or(Err(AskError::TimedOut(timeout.as_millis() as u64)))
}

/// `GET path` over HTTP/1.0 (so the answer is never chunked and ends with the connection),
/// returning the body of a 200 answer.
pub async fn http_get(host: &str, port: u16, path: &str, timeout: Duration) -> Result<String, AskError> {
    let ask = async {
        let mut stream = TcpStream::connect((host, port)).await.map_err(io_error)?;
        let request = format!(
            "GET {path} HTTP/1.0\r\nHost: {}\r\nAccept: application/json\r\nConnection: close\r\n\r\n",
            address(host, port)
        );
        stream.write_all(request.as_bytes()).await.map_err(io_error)?;
        let mut out = Vec::new();
        stream.take(MAX_ANSWER_BYTES).read_to_end(&mut out).await.map_err(io_error)?;
        http_body(&out).map_err(AskError::Other)
    };
    tokio::time::timeout(timeout, ask).await.unwrap_or(Err(AskError::TimedOut(timeout.as_millis() as u64)))
}

/// The body of an HTTP answer, or why it is not a 200 with a plain body.
fn http_body(answer: &[u8]) -> Result<String, String> {
    let text = String::from_utf8_lossy(answer);
    let (head, body) = text.split_once("\r\n\r\n").ok_or("not an HTTP answer")?;
    let mut lines = head.lines();
    let status = lines.next().unwrap_or_default();
    let code = status.split_whitespace().nth(1).unwrap_or_default();
    if !status.starts_with("HTTP/") {
        return Err("not an HTTP answer".to_string());
    }
    if code != "200" {
        return Err(format!("HTTP {}", status.split_whitespace().skip(1).collect::<Vec<_>>().join(" ")));
    }
    if lines.any(|l| l.to_ascii_lowercase().replace(' ', "") == "transfer-encoding:chunked") {
        return Err("a chunked answer to an HTTP/1.0 request".to_string());
    }
    Ok(body.to_string())
}

/// Asks one member: the four-letter words first (when on), its AdminServer (when configured)
/// when they do not tell everything.
pub async fn probe(member: &Member, opts: &EnsembleOptions) -> Probed {
    let timeout = Duration::from_millis(opts.timeout_ms);
    let admin = opts.admin_for(member);
    let mut partial: Option<MemberStats> = None;
    let mut reasons: Vec<String> = Vec::new();
    let mut down = false;
    if opts.four_letter_words {
        let (srvr, mntr) = tokio::join!(
            four_letter(&member.host, member.port, "srvr", timeout),
            four_letter(&member.host, member.port, "mntr", timeout),
        );
        match srvr.map(|text| parse_srvr(&text)) {
            Err(e) => {
                down = e.is_down();
                reasons.push(e.to_string());
            }
            Ok(Err(refused)) => reasons.push(refused.to_string()),
            Ok(Ok(s)) if s.mode == Some(Mode::NotServing) => {
                return Probed {
                    reach: Reach::NotServing,
                    via: Some(Via::FourLetterWords),
                    stats: Some(s),
                    reason: None,
                };
            }
            Ok(Ok(s)) => match mntr.map(|text| parse_mntr(&text)) {
                Ok(Ok(m)) => {
                    let stats = m.or(s);
                    return Probed {
                        reach: Reach::Serving,
                        via: Some(Via::FourLetterWords),
                        stats: Some(stats),
                        reason: None,
                    };
                }
                Ok(Err(refused)) => {
                    partial = Some(s);
                    reasons.push(refused.to_string());
                }
                Err(e) => {
                    partial = Some(s);
                    reasons.push(format!("mntr: {e}"));
                }
            },
        }
    } else {
        reasons.push("four-letter words not used".to_string());
    }
    match admin {
        Some((host, port)) => {
            let (srvr, mntr) = tokio::join!(
                admin_json(&host, port, "/commands/srvr", timeout),
                admin_json(&host, port, "/commands/mntr", timeout),
            );
            let label = address(&host, port);
            match (&srvr, &mntr) {
                (Err(e), Err(_)) => reasons.push(format!("AdminServer {label}: {e}")),
                _ => match from_admin(srvr.as_ref().ok(), mntr.as_ref().ok()) {
                    Ok(s) => {
                        let reach = if s.mode == Some(Mode::NotServing) { Reach::NotServing } else { Reach::Serving };
                        let stats = match partial {
                            Some(p) => s.or(p),
                            None => s,
                        };
                        return Probed { reach, via: Some(Via::AdminServer), stats: Some(stats), reason: None };
                    }
                    Err(refused) => reasons.push(format!("AdminServer {label}: {refused}")),
                },
            }
        }
        None => reasons.push("no AdminServer configured".to_string()),
    }
    let reason = Some(reasons.join("; "));
    match partial {
        Some(s) => Probed { reach: Reach::Serving, via: Some(Via::FourLetterWords), stats: Some(s), reason },
        None if down => Probed { reach: Reach::Down, via: None, stats: None, reason },
        None => Probed { reach: Reach::Unreadable, via: None, stats: None, reason },
    }
}

async fn admin_json(host: &str, port: u16, path: &str, timeout: Duration) -> Result<serde_json::Value, String> {
    let body = http_get(host, port, path, timeout).await.map_err(|e| e.to_string())?;
    serde_json::from_str(&body).map_err(|e| format!("{path}: not JSON: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_answers() {
        let ok = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}";
        assert_eq!(http_body(ok), Ok("{}".to_string()));
        let denied = b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n";
        assert_eq!(http_body(denied), Err("HTTP 403 Forbidden".to_string()));
        let chunked = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n";
        assert!(http_body(chunked).unwrap_err().contains("chunked"));
        assert!(http_body(b"imok").is_err());
        assert!(http_body(b"SSH-2.0-OpenSSH\r\n\r\n").is_err());
    }

    #[test]
    fn errors_say_why() {
        assert_eq!(AskError::Refused.to_string(), "connection refused");
        assert_eq!(AskError::TimedOut(1000).to_string(), "no answer within 1000 ms");
        assert!(AskError::Refused.is_down() && AskError::TimedOut(1).is_down());
        assert!(!AskError::Other("reset".into()).is_down());
    }

    fn member(port: u16) -> Member {
        Member {
            host: "127.0.0.1".into(),
            port,
            server_id: None,
            role: None,
            in_connect_string: true,
            in_dynamic_config: false,
        }
    }

    /// A port nothing listens on: the kernel refuses at once.
    #[tokio::test]
    async fn a_closed_port_is_down_with_both_reasons() {
        let closed = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let mut opts = EnsembleOptions { timeout_ms: 500, ..EnsembleOptions::default() };
        opts.admin_servers.insert(format!("127.0.0.1:{closed}"), format!("127.0.0.1:{closed}"));
        let p = probe(&member(closed), &opts).await;
        assert_eq!(p.reach, Reach::Down);
        assert_eq!(
            p.reason.as_deref(),
            Some(format!("connection refused; AdminServer 127.0.0.1:{closed}: connection refused").as_str())
        );
        let p = probe(&member(closed), &EnsembleOptions { timeout_ms: 500, ..EnsembleOptions::default() }).await;
        assert_eq!(p.reason.as_deref(), Some("connection refused; no AdminServer configured"));
    }

    /// A listener that never answers: the word times out.
    #[tokio::test]
    async fn a_silent_member_times_out() {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = l.local_addr().unwrap().port();
        let hold = tokio::spawn(async move {
            let mut kept = Vec::new();
            while let Ok((s, _)) = l.accept().await {
                kept.push(s);
            }
        });
        let opts = EnsembleOptions { timeout_ms: 200, ..EnsembleOptions::default() };
        let p = probe(&member(port), &opts).await;
        assert_eq!(p.reach, Reach::Down);
        assert_eq!(p.reason.as_deref(), Some("no answer within 200 ms; no AdminServer configured"));
        hold.abort();
    }
}
