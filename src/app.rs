//! `warta run`, wired together: the Prometheus recorder and the operations
//! listener (`/metrics`, `/healthz`, `/readyz`) around the Kafka service.
//!
//! [`App::start`] binds the listener first, so `/healthz` answers and
//! `/readyz` says "not ready" while the service is still joining its group;
//! [`App::run`] then runs the service until the shutdown future resolves and
//! stops the listener after the last batch is committed.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use crate::config::Settings;
use crate::http::{self, Health, HttpError};
use crate::kafka::{RunError, RunStats};

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error(transparent)]
    Http(#[from] HttpError),
    #[error(transparent)]
    Run(#[from] RunError),
}

/// A started instance: the listener is up, the service not yet running.
pub struct App {
    settings: Arc<Settings>,
    health: Arc<Health>,
    listener: Option<Listener>,
}

struct Listener {
    addr: SocketAddr,
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<()>,
}

impl App {
    /// Installs the recorder and binds `metrics.listen` (when enabled).
    pub async fn start(settings: Arc<Settings>) -> Result<App, AppError> {
        // A batch may legitimately hold the loop for a transaction timeout plus
        // a retry backoff; only beyond that is the loop stuck.
        let stuck_after = settings.kafka.transaction_timeout * 2
            + settings.kafka.retry_backoff_max
            + std::time::Duration::from_secs(10);
        let health = Health::new(stuck_after);
        let listener = match settings.metrics_listen {
            None => None,
            Some(addr) => {
                let handle = http::recorder(&settings.topics.input)?;
                let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
                let (addr, task) = http::serve(addr, handle, health.clone(), async {
                    let _ = stopped.await;
                })
                .await?;
                Some(Listener { addr, stop, task })
            }
        };
        Ok(App {
            settings,
            health,
            listener,
        })
    }

    /// The address `/metrics` is served on, if enabled (useful with port 0).
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.listener.as_ref().map(|l| l.addr)
    }

    pub fn health(&self) -> Arc<Health> {
        self.health.clone()
    }

    /// Runs the service until `shutdown` resolves and the open batch is
    /// drained, then stops the listener.
    pub async fn run<F>(self, shutdown: F) -> Result<RunStats, AppError>
    where
        F: Future<Output = ()>,
    {
        let result = crate::kafka::run(self.settings, self.health, shutdown).await;
        if let Some(l) = self.listener {
            let _ = l.stop.send(());
            let _ = l.task.await;
        }
        Ok(result?)
    }
}

/// Starts and runs an instance: what `warta run` does.
pub async fn run<F>(settings: Arc<Settings>, shutdown: F) -> Result<RunStats, AppError>
where
    F: Future<Output = ()>,
{
    App::start(settings).await?.run(shutdown).await
}
