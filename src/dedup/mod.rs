//! Near-duplicate detection for article bodies; pure and synchronous, no I/O
//! except in [`redis`], the optional shared store.
//!
//! [`minhash`] turns a normalized body into a MinHash [`minhash::Signature`] and
//! its LSH band keys; [`index`] holds recent articles' signatures in a bounded,
//! event-time-expiring [`index::ArticleIndex`] and finds the candidates a new body
//! resembles. [`verdict`] decides `new` / `unchanged` / `updated` / `duplicate`
//! against an [`verdict::ArticleStore`], and [`headlines`] publishes each
//! headline once within its TTL. [`changelog`] encodes every change to that
//! state as a keyed record, so it can be written to a compacted topic and
//! restored on start. [`redis`] keeps the article index in Redis instead,
//! shared by every instance at once, with atomic claims on the LSH bands.
//! [`deduper`] holds one instance's state over all of these: the watermark,
//! the staged batch, the changelog's tombstones and the restore.

pub mod changelog;
pub mod deduper;
pub mod headlines;
pub mod index;
pub mod minhash;
pub mod redis;
pub mod verdict;
