//! The operations listener of `warta run`: `/metrics` (Prometheus text format),
//! `/healthz` (alive, loops not stuck) and `/readyz` (partitions assigned,
//! broker reachable, dedup state loaded), all on `metrics.listen`.
//!
//! The service loop reports into a shared [`Health`]; the handlers only read
//! it, so a slow scrape never holds up the pipeline.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::metrics;

#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error("cannot listen on {addr}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot install the Prometheus recorder")]
    Recorder(#[source] metrics_exporter_prometheus::BuildError),
}

/// What the service loop tells the health endpoints.
#[derive(Debug)]
pub struct Health {
    /// Milliseconds since the Unix epoch when the service loop last went round;
    /// it ticks at least once a second while the loop is alive.
    heartbeat_ms: AtomicI64,
    /// The longest a loop iteration may legitimately take (a batch is bounded
    /// by the transaction timeout); beyond it the loop counts as stuck.
    stuck_after: Duration,
    assigned: AtomicUsize,
    broker_up: AtomicBool,
    state_loaded: AtomicBool,
    /// Why the dedup state is not loaded yet (for the `/readyz` body).
    loading: std::sync::Mutex<String>,
}

impl Health {
    pub fn new(stuck_after: Duration) -> Arc<Self> {
        Arc::new(Health {
            heartbeat_ms: AtomicI64::new(now_ms()),
            stuck_after,
            assigned: AtomicUsize::new(0),
            broker_up: AtomicBool::new(false),
            state_loaded: AtomicBool::new(false),
            loading: std::sync::Mutex::new("dedup state not loaded yet".into()),
        })
    }

    pub fn beat(&self) {
        self.heartbeat_ms.store(now_ms(), Ordering::Relaxed);
    }

    pub fn set_assigned(&self, n: usize) {
        self.assigned.store(n, Ordering::Relaxed);
        metrics::assigned_partitions(n);
    }

    pub fn assigned(&self) -> usize {
        self.assigned.load(Ordering::Relaxed)
    }

    pub fn set_broker_up(&self, up: bool) {
        self.broker_up.store(up, Ordering::Relaxed);
    }

    /// Marks the dedup state as loading, with a reason for `/readyz`.
    pub fn set_loading(&self, why: impl Into<String>) {
        self.state_loaded.store(false, Ordering::Relaxed);
        if let Ok(mut l) = self.loading.lock() {
            *l = why.into();
        }
    }

    pub fn set_loaded(&self) {
        self.state_loaded.store(true, Ordering::Relaxed);
    }

    /// `None` when alive, else why not.
    pub fn liveness(&self) -> Option<String> {
        let age = now_ms() - self.heartbeat_ms.load(Ordering::Relaxed);
        (age > self.stuck_after.as_millis() as i64)
            .then(|| format!("the service loop has not gone round for {age} ms"))
    }

    /// Every reason the instance is not ready; empty when ready.
    pub fn readiness(&self) -> Vec<String> {
        let mut why = Vec::new();
        if !self.state_loaded.load(Ordering::Relaxed) {
            why.push(
                self.loading
                    .lock()
                    .map(|l| l.clone())
                    .unwrap_or_else(|_| "dedup state not loaded".into()),
            );
        }
        if !self.broker_up.load(Ordering::Relaxed) {
            why.push("no broker reachable".into());
        }
        if self.assigned() == 0 {
            why.push("no partitions assigned".into());
        }
        if let Some(l) = self.liveness() {
            why.push(l);
        }
        why
    }
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// The Prometheus exporter as warta configures it: histograms with buckets
/// (so `histogram_quantile` works across instances), not summaries.
pub fn builder() -> Result<PrometheusBuilder, HttpError> {
    PrometheusBuilder::new()
        .set_buckets_for_metric(
            Matcher::Full(metrics::END_TO_END_LATENCY.into()),
            metrics::LATENCY_BUCKETS,
        )
        .and_then(|b| {
            b.set_buckets_for_metric(Matcher::Suffix("_seconds".into()), metrics::STAGE_BUCKETS)
        })
        .map_err(HttpError::Recorder)
}

/// Installs the process-wide Prometheus recorder (once; later calls return the
/// same handle) and registers the metric catalogue.
pub fn recorder(input_topics: &[String]) -> Result<PrometheusHandle, HttpError> {
    // Services starting at once in one process (tests run several) must not
    // both install: the second install fails. Holding the lock across the
    // check and the install makes them one step; this runs once per service.
    static HANDLE: Mutex<Option<PrometheusHandle>> = Mutex::new(None);
    let mut slot = HANDLE.lock().unwrap_or_else(|e| e.into_inner());
    let handle = match &*slot {
        Some(h) => h.clone(),
        None => {
            let h = builder()?.install_recorder().map_err(HttpError::Recorder)?;
            slot.insert(h).clone()
        }
    };
    drop(slot);
    metrics::register(input_topics);
    Ok(handle)
}

#[derive(Clone)]
struct AppState {
    handle: PrometheusHandle,
    health: Arc<Health>,
}

/// Binds `addr` and serves until `shutdown` resolves. Returns the bound
/// address (port 0 picks a free one) and the server task.
pub async fn serve<F>(
    addr: SocketAddr,
    handle: PrometheusHandle,
    health: Arc<Health>,
    shutdown: F,
) -> Result<(SocketAddr, tokio::task::JoinHandle<()>), HttpError>
where
    F: Future<Output = ()> + Send + 'static,
{
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| HttpError::Bind { addr, source })?;
    let bound = listener
        .local_addr()
        .map_err(|source| HttpError::Bind { addr, source })?;
    let upkeep = handle.clone();
    let app = Router::new()
        .route("/metrics", get(render))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .with_state(AppState { handle, health });
    let task = tokio::spawn(async move {
        // Histograms keep samples until rendered or upkept; without a scraper
        // they would grow for ever.
        let upkeep_task = tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(5));
            loop {
                tick.tick().await;
                upkeep.run_upkeep();
            }
        });
        if let Err(e) = axum::serve(listener, app)
            .with_graceful_shutdown(shutdown)
            .await
        {
            tracing::error!(error = %e, "metrics listener failed");
        }
        upkeep_task.abort();
    });
    tracing::info!(%bound, "serving /metrics, /healthz and /readyz");
    Ok((bound, task))
}

async fn render(State(s): State<AppState>) -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        s.handle.render(),
    )
        .into_response()
}

async fn healthz(State(s): State<AppState>) -> Response {
    match s.health.liveness() {
        None => (StatusCode::OK, Json(serde_json::json!({"alive": true}))).into_response(),
        Some(why) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(serde_json::json!({"alive": false, "reason": why})),
        )
            .into_response(),
    }
}

async fn readyz(State(s): State<AppState>) -> Response {
    let why = s.health.readiness();
    let body = serde_json::json!({
        "ready": why.is_empty(),
        "assigned_partitions": s.health.assigned(),
        "reasons": why,
    });
    let status = if why.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(body)).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Services that start together in one process share one recorder; none
    /// fails because another installed it first.
    #[test]
    fn concurrent_recorder_installs_share_one() {
        let start = Arc::new(std::sync::Barrier::new(8));
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let start = start.clone();
                std::thread::spawn(move || {
                    start.wait();
                    recorder(&["raw-pages".to_string()]).map(|_| ())
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap().expect("recorder");
        }
    }
}
