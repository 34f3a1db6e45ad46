//! The agent's HTTP endpoints (`myzoo agent --http ADDR:PORT`; off without it): `/primary` and
//! `/replica` for proxies' health checks (200 or 503, the reason in the body), `/health` (JSON)
//! and `/metrics` (Prometheus/OpenMetrics text). Every answer is computed from values the
//! agent's tasks already hold (`watch` channels, atomics): a request never waits for MySQL or
//! ZooKeeper, so a check answers in microseconds whatever state the cluster is in, and a frozen
//! agent answers nothing (the proxy's check times out), never an old yes.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use super::endpoints::{self, AgentView, Answer};
use super::fence::Link;
use super::metrics::AgentMetrics;
use crate::cluster::config::PrimaryRecord;
use crate::cluster::status::NodeStatus;

/// OpenMetrics text, which Prometheus negotiates and parses.
pub const METRICS_CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Where the endpoints read from.
#[derive(Clone)]
pub struct Sources {
    pub node: String,
    pub interval_ms: u64,
    pub status_rx: watch::Receiver<Option<NodeStatus>>,
    pub primary_rx: watch::Receiver<Option<PrimaryRecord>>,
    pub link_rx: watch::Receiver<Link>,
    /// The session the `primary` record was last read in.
    pub record_read_rx: watch::Receiver<i64>,
    pub max_lag_rx: watch::Receiver<Option<u64>>,
    pub metrics: Arc<AgentMetrics>,
}

impl Sources {
    /// One look at everything, now.
    pub fn view(&self) -> AgentView {
        let (zk_connected, zk_since_ms, session) = {
            let link = self.link_rx.borrow();
            let session = link.client.as_ref().map(|c| c.session_id().0);
            (link.connected, u64::try_from(link.since.elapsed().as_millis()).unwrap_or(u64::MAX), session)
        };
        let record_current = session.is_some_and(|s| s == *self.record_read_rx.borrow());
        // Before the status: the time is then never newer than the status it is paired with.
        let probe_elapsed_ms = self.metrics.since_last_probe_ms();
        AgentView {
            node: self.node.clone(),
            status: self.status_rx.borrow().clone(),
            recorded: self.primary_rx.borrow().clone(),
            zk_connected,
            zk_since_ms,
            record_current,
            max_lag_s: *self.max_lag_rx.borrow(),
            fenced_for_lease: self.metrics.fenced_for_lease(),
            interval_ms: self.interval_ms,
            now_ms: crate::audit::now_ms(),
            probe_elapsed_ms,
        }
    }
}

/// Binds the listener (before the agent starts, so a port in use fails the start) and says
/// what address to publish: the one bound (port 0 resolved). A wildcard (`0.0.0.0:9104`) is
/// published as such: readers put the node's address from the cluster config in its place,
/// which names the host as others reach it (the agent's own name for itself may not resolve
/// there).
pub async fn bind(addr: SocketAddr) -> std::io::Result<(TcpListener, String)> {
    let listener = TcpListener::bind(addr).await?;
    let bound = listener.local_addr()?;
    Ok((listener, bound.to_string()))
}

/// Serves until `cancel` fires.
pub async fn serve(listener: TcpListener, sources: Sources, cancel: CancellationToken) {
    let app = Router::new()
        .route("/primary", get(primary))
        .route("/replica", get(replica))
        .route("/health", get(health))
        .route("/metrics", get(metrics))
        .with_state(sources);
    let addr = listener.local_addr().map(|a| a.to_string()).unwrap_or_default();
    tracing::info!(%addr, "serving /primary, /replica, /health and /metrics");
    if let Err(e) = axum::serve(listener, app).with_graceful_shutdown(cancel.cancelled_owned()).await {
        tracing::error!(%addr, "HTTP endpoints stopped: {e}");
    }
}

fn answer(a: Answer) -> Response {
    let code = if a.ok { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    (code, [(header::CACHE_CONTROL, "no-store")], format!("{}\n", a.reason)).into_response()
}

async fn primary(State(s): State<Sources>) -> Response {
    answer(endpoints::primary(&s.view()))
}

async fn replica(State(s): State<Sources>) -> Response {
    answer(endpoints::replica(&s.view()))
}

async fn health(State(s): State<Sources>) -> Response {
    let h = endpoints::health(&s.view());
    let code = if h.ok { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    let body = serde_json::to_string_pretty(&h).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    (code, [(header::CONTENT_TYPE, "application/json"), (header::CACHE_CONTROL, "no-store")], body + "\n")
        .into_response()
}

async fn metrics(State(s): State<Sources>) -> Response {
    let text = s.metrics.scrape(&s.view());
    (StatusCode::OK, [(header::CONTENT_TYPE, METRICS_CONTENT_TYPE)], text).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_published_address_is_the_one_bound() {
        let (_l, published) = bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
        let port: u16 = published.strip_prefix("127.0.0.1:").expect("loopback").parse().unwrap();
        assert_ne!(port, 0, "port 0 resolved to the port bound");
        // A wildcard stays one: readers put the node's own address in its place.
        let (_l, published) = bind("0.0.0.0:0".parse().unwrap()).await.unwrap();
        assert!(published.starts_with("0.0.0.0:") && !published.ends_with(":0"), "{published}");
    }
}
