//! A plain HTTP/1.0 GET for tests of the agent's endpoints (status code and body, whatever the
//! code), and a strict OpenMetrics parse of a scrape into `(family, labels) → value`.

use std::time::Duration;

use openmetrics_parser::openmetrics::parse_openmetrics;
use openmetrics_parser::OpenMetricsValue;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use zookeeper_client::Client;

/// One answer: status code, headers (lowercase names), body.
#[derive(Debug, Clone)]
pub struct Answer {
    pub code: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }
}

/// `GET path` from `addr` (`host:port`); `Err` when there is no whole answer within `timeout`.
pub async fn get(addr: &str, path: &str, timeout: Duration) -> Result<Answer, String> {
    let ask = async {
        let mut stream = TcpStream::connect(addr).await.map_err(|e| format!("connect {addr}: {e}"))?;
        let request = format!("GET {path} HTTP/1.0\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
        stream.write_all(request.as_bytes()).await.map_err(|e| e.to_string())?;
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).await.map_err(|e| e.to_string())?;
        let text = String::from_utf8(raw).map_err(|e| e.to_string())?;
        let (head, body) = text.split_once("\r\n\r\n").ok_or_else(|| format!("not HTTP: {text:?}"))?;
        let mut lines = head.lines();
        let code = lines
            .next()
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|c| c.parse().ok())
            .ok_or_else(|| format!("no status line: {head:?}"))?;
        let headers = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
            .collect();
        Ok(Answer { code, headers, body: body.to_string() })
    };
    tokio::time::timeout(timeout, ask).await.map_err(|_| format!("no answer from {addr}{path} within {timeout:?}"))?
}

/// Each agent's published HTTP address (`agent.http` in its node status), by node.
pub async fn agent_addrs(zk: &Client, nodes_dir: &str) -> Vec<(String, String)> {
    let mut names = zk.list_children(nodes_dir).await.expect("nodes");
    names.sort();
    let mut out = Vec::new();
    for name in names {
        let (data, _) = zk.get_data(&format!("{nodes_dir}/{name}")).await.expect("status");
        let v: serde_json::Value = serde_json::from_slice(&data).expect("status JSON");
        let addr = v["agent"]["http"].as_str().unwrap_or_else(|| panic!("{name} publishes no agent.http: {v}"));
        out.push((name, addr.to_string()));
    }
    out
}

/// One sample of a scrape: family name, labels as `k=v,…` (sorted), value (a histogram's count).
pub type Samples = Vec<(String, String, f64)>;

/// Parses a scrape with a strict OpenMetrics parser; panics (quoting the text) when it is not.
pub fn parse_scrape(text: &str) -> Samples {
    let parsed = parse_openmetrics(text).unwrap_or_else(|e| panic!("not OpenMetrics text: {e:?}\n{text}"));
    let mut out = Vec::new();
    for (name, family) in &parsed.families {
        for sample in family.iter_samples() {
            let labels = sample.get_labelset().expect("labels");
            let mut pairs: Vec<String> = labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
            pairs.sort();
            let value = match &sample.value {
                OpenMetricsValue::Gauge(n) | OpenMetricsValue::Unknown(n) => n.as_f64(),
                OpenMetricsValue::Counter(c) => c.value.as_f64(),
                OpenMetricsValue::Histogram(h) => h.count.unwrap_or(0) as f64,
                OpenMetricsValue::Info => 1.0,
                other => panic!("{name}: unexpected {other:?}"),
            };
            out.push((name.clone(), pairs.join(","), value));
        }
    }
    out
}

/// The value of `name{labels}`; panics naming what is there when it is missing.
pub fn sample(all: &Samples, name: &str, labels: &str) -> f64 {
    all.iter()
        .find(|(n, l, _)| n == name && l == labels)
        .unwrap_or_else(|| {
            let names: Vec<_> = all.iter().filter(|(n, _, _)| n == name).collect();
            panic!("{name}{{{labels}}} missing; {name} has {names:?}")
        })
        .2
}
