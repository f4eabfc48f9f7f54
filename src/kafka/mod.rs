//! The Kafka edge: `warta run` consumes raw pages in a consumer group, runs the
//! pure pipeline, and produces clean articles, headlines, duplicates and dead
//! letters, exactly once (transactions) or at least once (idempotent producer).
//!
//! - [`errors`]: which errors are retried, abort the batch, recreate the
//!   producer, or stop the service; [`RunError`], why the service stopped.
//! - [`records`]: pipeline records → Kafka records with keys and headers.
//! - [`service`]: the consume → process → produce loop, rebalances, shutdown.
//! - [`state`]: the dedup state's compacted changelog topic: creation, restore
//!   on start, and the records each batch writes.

pub mod errors;
pub mod records;
pub mod service;
pub mod state;

pub use errors::RunError;
pub use service::{run, RunStats};
