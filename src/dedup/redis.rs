//! The shared article store on Redis (`dedup.store = "redis"`), for deployments
//! that need every instance to see every article at once, not within the
//! changelog's consistency window.
//!
//! # Keys
//! - `{prefix}:a:{article id}`: the article's record (see [`Record`]).
//! - `{prefix}:b:{band}:{band key}`: the id of the article that claimed that LSH
//!   band key.
//!
//! Every key is single and carries no hash tag, so the keys spread over a Redis
//! Cluster's slots; every command touches one key, so a cluster pipeline routes
//! each to its node. Every key is written with a TTL of `dedup.ttl_secs`, so
//! Redis expires the state itself; lookups also ignore entries whose event time
//! is past the TTL, as the in-memory index does.
//!
//! # Claim or match
//! A new article claims its band keys with `SET key id NX GET`, one atomic
//! command per band: it either takes the key or learns who holds it. Two
//! instances that see copies of one story at the same moment both miss in the
//! lookup, then race on the claims. Each reads the other's record, and the
//! first band key the two articles share decides: whoever holds it is the
//! original, the other is its duplicate. Both sides read the same value under
//! that key, so they reach the same verdict without talking to each other. A
//! record is written before its claims, so a holder's record is always there to
//! be read.
//!
//! One difference from the in-memory index: an article's record holds its
//! current version only, so a copy of an older version of an updated article
//! is measured against the current one (same cluster, lower similarity).
//!
//! # Replays
//! Redis is not part of Kafka's transaction: an aborted batch's writes stay.
//! Each record therefore names the input that wrote it (its origin, a hash of
//! topic, partition and offset) and keeps the state it replaced. When the same
//! input is decided again, the store answers with the replaced state, and band
//! keys held by the article itself count as its own: the replay gets the
//! verdicts of the first attempt.
//!
//! # Errors
//! [`ArticleStore`] methods cannot fail, so a Redis error is kept and the
//! method answers as if nothing were stored. The caller checks
//! [`ArticleStore::take_error`] after each batch and, if set, discards the
//! batch's verdicts and processes it again.

use std::sync::Mutex;
use std::time::Duration;

use redis::{Cmd, Value};
use thiserror::Error;

use super::changelog::{ArticleState, Change, ChangelogError, StateKey};
use super::index::IndexStats;
use super::minhash::{band_keys, compress, estimate_compressed, Signature, BANDS};
use super::verdict::{ArticleStore, NewEntry, StoreError, StoredArticle};

/// Format byte of a record; a reader skips others.
const RECORD_FORMAT: u8 = 1;
/// Format byte, flags, origin, length of the current state.
const RECORD_HEADER: usize = 1 + 1 + 8 + 4;
/// Record flag: the article's claim is resolved (see [`Record::settled`]).
const FLAG_SETTLED: u8 = 1;
/// How long a lookup waits for a rival's claim to resolve: a claim takes one
/// round trip or two, so this only runs out when the claiming instance died.
const SETTLE_WAIT: Duration = Duration::from_millis(200);

/// Where and how to reach Redis.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedisConfig {
    /// One URL for a single server, or a cluster's seed nodes.
    pub urls: Vec<String>,
    /// Whether `urls` are Redis Cluster nodes.
    pub cluster: bool,
    /// Prefix of every key, so deployments can share a server.
    pub prefix: String,
    /// Connect, read and write timeout of each command.
    pub timeout: Duration,
}

/// Why the Redis store failed.
#[derive(Debug, Error)]
pub enum RedisStoreError {
    #[error("cannot connect to Redis at {urls}")]
    Connect {
        urls: String,
        #[source]
        source: redis::RedisError,
    },
    #[error("a Redis command failed")]
    Command(#[source] redis::RedisError),
    #[error("Redis holds an unreadable record under {key}")]
    Record {
        key: String,
        #[source]
        source: ChangelogError,
    },
}

enum Conn {
    Single(redis::Connection),
    Cluster(Box<redis::cluster::ClusterConnection>),
}

impl Conn {
    /// Sends the commands in one round trip (per node, on a cluster) and returns
    /// one reply per command.
    fn run(&mut self, cmds: Vec<Cmd>) -> redis::RedisResult<Vec<Value>> {
        if cmds.is_empty() {
            return Ok(Vec::new());
        }
        match self {
            Conn::Single(c) => {
                let mut p = redis::pipe();
                for cmd in cmds {
                    p.add_command(cmd);
                }
                p.query(c)
            }
            Conn::Cluster(c) => {
                let mut p = redis::cluster::cluster_pipe();
                for cmd in cmds {
                    p.add_command(cmd);
                }
                p.query(c.as_mut())
            }
        }
    }
}

/// An article record as stored: the state, the input that wrote it, and the
/// state it replaced (for that input's replay).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Record {
    /// False while the article claims its bands: it may still turn out to be a
    /// copy of a rival's article, so a lookup that matches it waits.
    settled: bool,
    origin: u64,
    current: ArticleState,
    replaced: Option<ArticleState>,
}

impl Record {
    fn encode(&self) -> Vec<u8> {
        let cur = article_bytes(&self.current);
        let mut out = Vec::with_capacity(RECORD_HEADER + 2 * cur.len());
        out.push(RECORD_FORMAT);
        out.push(if self.settled { FLAG_SETTLED } else { 0 });
        out.extend_from_slice(&self.origin.to_le_bytes());
        out.extend_from_slice(&(cur.len() as u32).to_le_bytes());
        out.extend_from_slice(&cur);
        if let Some(r) = &self.replaced {
            out.extend_from_slice(&article_bytes(r));
        }
        out
    }

    fn decode(article_id: u64, bytes: &[u8]) -> Result<Record, ChangelogError> {
        let length_error = || ChangelogError::Length {
            kind: 'r',
            expected: RECORD_HEADER,
            got: bytes.len(),
        };
        if bytes.len() < RECORD_HEADER {
            return Err(length_error());
        }
        if bytes[0] != RECORD_FORMAT {
            return Err(ChangelogError::Version(bytes[0]));
        }
        let settled = bytes[1] & FLAG_SETTLED != 0;
        let origin = u64::from_le_bytes(bytes[2..10].try_into().map_err(|_| length_error())?);
        let len =
            u32::from_le_bytes(bytes[10..14].try_into().map_err(|_| length_error())?) as usize;
        let rest = &bytes[RECORD_HEADER..];
        if rest.len() < len {
            return Err(length_error());
        }
        let (cur, replaced) = rest.split_at(len);
        Ok(Record {
            settled,
            origin,
            current: article_state(article_id, cur)?,
            replaced: if replaced.is_empty() {
                None
            } else {
                Some(article_state(article_id, replaced)?)
            },
        })
    }
}

fn article_bytes(a: &ArticleState) -> Vec<u8> {
    Change::Article(Box::new(a.clone()))
        .encode_value()
        .unwrap_or_default()
}

fn article_state(article_id: u64, value: &[u8]) -> Result<ArticleState, ChangelogError> {
    match Change::decode(&StateKey::Article(article_id).encode(), Some(value))? {
        Change::Article(a) => Ok(*a),
        other => Err(ChangelogError::Key(format!("{:?}", other.key()))),
    }
}

fn stored(a: &ArticleState) -> StoredArticle {
    StoredArticle {
        article_id: a.article_id,
        cluster_id: a.cluster_id,
        content_hash: a.content_hash,
        version: a.version,
        representative: a.band_keys.is_some(),
        signature: a.signature.clone(),
    }
}

/// The article store on Redis; see the module documentation.
pub struct RedisStore {
    /// Behind a mutex only to be `Sync`: the store is used through `&mut`, so
    /// [`Mutex::get_mut`] reaches it without locking.
    conn: Mutex<Conn>,
    prefix: String,
    ttl_secs: u32,
    /// The input being decided; 0 when none is set (never matches a record).
    origin: u64,
    /// The state an article had before the current input touched it, from the
    /// last [`ArticleStore::by_article`]: written as the replaced state.
    before: Option<(u64, Option<ArticleState>)>,
    error: Option<RedisStoreError>,
}

impl RedisStore {
    /// Connects, and checks the connection with a round trip.
    pub fn connect(config: &RedisConfig, ttl_secs: u32) -> Result<Self, RedisStoreError> {
        let connect = |source| RedisStoreError::Connect {
            urls: config.urls.join(","),
            source,
        };
        let conn = if config.cluster {
            let client = redis::cluster::ClusterClient::builder(config.urls.clone())
                .connection_timeout(config.timeout)
                .response_timeout(config.timeout)
                .build()
                .map_err(connect)?;
            Conn::Cluster(Box::new(client.get_connection().map_err(connect)?))
        } else {
            let url = config.urls.first().map(String::as_str).unwrap_or_default();
            let client = redis::Client::open(url).map_err(connect)?;
            let c = client
                .get_connection_with_timeout(config.timeout)
                .map_err(connect)?;
            c.set_read_timeout(Some(config.timeout)).map_err(connect)?;
            c.set_write_timeout(Some(config.timeout)).map_err(connect)?;
            Conn::Single(c)
        };
        let mut store = RedisStore {
            conn: Mutex::new(conn),
            prefix: config.prefix.clone(),
            ttl_secs,
            origin: 0,
            before: None,
            error: None,
        };
        // A cluster pipeline refuses PING; EXISTS on one key routes anywhere.
        let probe = redis::cmd("EXISTS").arg(store.article_key(0)).to_owned();
        store.conn_mut().run(vec![probe]).map_err(connect)?;
        Ok(store)
    }

    fn conn_mut(&mut self) -> &mut Conn {
        // A poisoned mutex only means a panic elsewhere held it; the connection
        // itself is as good as its last command.
        self.conn.get_mut().unwrap_or_else(|p| p.into_inner())
    }

    fn article_key(&self, article_id: u64) -> String {
        format!("{}:a:{article_id:016x}", self.prefix)
    }

    fn band_key(&self, band: usize, key: u64) -> String {
        format!("{}:b:{band}:{key:016x}", self.prefix)
    }

    fn ttl_ms(&self) -> u64 {
        u64::from(self.ttl_secs) * 1000
    }

    fn run(&mut self, cmds: Vec<Cmd>) -> Option<Vec<Value>> {
        if self.error.is_some() {
            // The batch is lost already; do not pile up timeouts.
            return None;
        }
        match self.conn_mut().run(cmds) {
            Ok(v) => Some(v),
            Err(e) => {
                self.error = Some(RedisStoreError::Command(e));
                None
            }
        }
    }

    /// The stored records of these articles, in order; `None` where there is
    /// none (or on an error, which is kept for [`ArticleStore::take_error`]).
    fn records(&mut self, ids: &[u64]) -> Vec<Option<Record>> {
        let cmds = ids
            .iter()
            .map(|&id| redis::cmd("GET").arg(self.article_key(id)).to_owned())
            .collect();
        let Some(values) = self.run(cmds) else {
            return vec![None; ids.len()];
        };
        let mut out = Vec::with_capacity(ids.len());
        for (&id, v) in ids.iter().zip(values) {
            out.push(match v {
                Value::BulkString(bytes) => match Record::decode(id, &bytes) {
                    Ok(r) => Some(r),
                    Err(source) => {
                        self.error.get_or_insert(RedisStoreError::Record {
                            key: self.article_key(id),
                            source,
                        });
                        None
                    }
                },
                _ => None,
            });
        }
        out
    }

    /// The state of a record the current input may see: what it replaced, when
    /// the current input wrote it (a replay), and nothing once expired.
    fn visible(&self, r: Record, now: u32) -> Option<ArticleState> {
        let state = if self.origin != 0 && r.origin == self.origin {
            r.replaced
        } else {
            Some(r.current)
        };
        state.filter(|s| s.event_time.saturating_add(self.ttl_secs) >= now)
    }

    /// Verifies candidate holders against `signature`: those at or above
    /// `threshold`, with whether their claim is resolved.
    fn verify(
        &mut self,
        holders: &[u64],
        signature: &Signature,
        now: u32,
        threshold: f64,
    ) -> Vec<(ArticleState, f64, bool)> {
        let query = compress(signature);
        let records = self.records(holders);
        let mut out = Vec::new();
        for r in records.into_iter().flatten() {
            let settled = r.settled;
            let Some(state) = self.visible(r, now) else {
                continue;
            };
            let sim = estimate_compressed(&query, &state.signature);
            if sim >= threshold {
                out.push((state, sim, settled));
            }
        }
        out
    }

    /// Claims the bands of `e`; the rival article it lost to, if any.
    fn contest(&mut self, e: &NewEntry<'_>, threshold: f64) -> Option<(StoredArticle, f64)> {
        let keys = band_keys(e.signature);
        let me = format!("{:016x}", e.article_id);
        let cmds = keys
            .iter()
            .enumerate()
            .map(|(band, &k)| {
                redis::cmd("SET")
                    .arg(self.band_key(band, k))
                    .arg(&me)
                    .arg("NX")
                    .arg("GET")
                    .arg("PX")
                    .arg(self.ttl_ms())
                    .to_owned()
            })
            .collect();
        let values = self.run(cmds)?;
        // Who holds each band now: this article where the claim took the key.
        let held: Vec<u64> = values
            .iter()
            .map(|v| holder_id(v).unwrap_or(e.article_id))
            .collect();
        let mut rivals: Vec<u64> = held
            .iter()
            .copied()
            .filter(|&h| h != e.article_id)
            .collect();
        rivals.sort_unstable();
        rivals.dedup();
        if rivals.is_empty() {
            return None;
        }
        // Against each rival that represents the same story, the first band key
        // the two share and one of them holds decides; both read the same
        // holder there, so both reach the same verdict. Of the rivals this
        // article loses to, the one that took the lowest band is reported: with
        // identical copies that is whoever took band 0, the original for all.
        // A rival that is a copy already lost its own race: it decides nothing.
        let mut decisive: Option<(usize, ArticleState, f64, bool)> = None;
        for (rival, sim, settled) in self.verify(&rivals, e.signature, e.event_time, threshold) {
            let Some(rival_keys) = rival.band_keys else {
                continue;
            };
            let first_shared = (0..BANDS).find(|&b| {
                rival_keys[b] == keys[b] && (held[b] == rival.article_id || held[b] == e.article_id)
            });
            if let Some(b) = first_shared.filter(|&b| held[b] == rival.article_id) {
                if decisive.as_ref().is_none_or(|(d, ..)| b < *d) {
                    decisive = Some((b, rival, sim, settled));
                }
            }
        }
        let (_, rival, sim, settled) = decisive?;
        // The rival may itself be losing to a third article: report where it
        // settles.
        let rival = self.settled(rival, settled, e.event_time);
        Some((stored(&rival), sim))
    }

    /// The rival's state once its claim is resolved: a rival still claiming
    /// may turn out to be a copy, and then its cluster is the one to report.
    fn settled(&mut self, state: ArticleState, settled: bool, now: u32) -> ArticleState {
        if settled {
            return state;
        }
        let deadline = std::time::Instant::now() + SETTLE_WAIT;
        while std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(1));
            let Some(r) = self.records(&[state.article_id]).pop().flatten() else {
                break;
            };
            let done = r.settled;
            match self.visible(r, now) {
                Some(s) if done => return s,
                Some(_) => continue,
                None => break,
            }
        }
        state
    }

    fn write_record(&mut self, e: &NewEntry<'_>, settled: bool) -> Option<()> {
        let replaced = match &self.before {
            Some((id, state)) if *id == e.article_id => state.clone(),
            _ => None,
        };
        let state = ArticleState {
            article_id: e.article_id,
            cluster_id: e.cluster_id,
            content_hash: e.content_hash,
            version: e.version,
            event_time: e.event_time,
            signature: compress(e.signature),
            band_keys: (e.representative && !e.signature.is_empty())
                .then(|| band_keys(e.signature)),
        };
        let record = Record {
            settled,
            origin: self.origin,
            current: state,
            replaced,
        };
        let cmd = redis::cmd("SET")
            .arg(self.article_key(e.article_id))
            .arg(record.encode())
            .arg("PX")
            .arg(self.ttl_ms())
            .to_owned();
        self.run(vec![cmd]).map(|_| ())
    }
}

fn holder_id(v: &Value) -> Option<u64> {
    match v {
        Value::BulkString(b) => std::str::from_utf8(b)
            .ok()
            .and_then(|s| u64::from_str_radix(s, 16).ok()),
        _ => None,
    }
}

impl ArticleStore for RedisStore {
    fn by_article(&mut self, article_id: u64, now: u32) -> Option<StoredArticle> {
        let record = self.records(&[article_id]).pop().flatten();
        let state = record.and_then(|r| self.visible(r, now));
        self.before = Some((article_id, state.clone()));
        state.as_ref().map(stored)
    }

    fn best_match(
        &mut self,
        signature: &Signature,
        now: u32,
        threshold: f64,
    ) -> Option<(StoredArticle, f64)> {
        if signature.is_empty() {
            return None;
        }
        let keys = band_keys(signature);
        let cmds = keys
            .iter()
            .enumerate()
            .map(|(band, &k)| redis::cmd("GET").arg(self.band_key(band, k)).to_owned())
            .collect();
        let values = self.run(cmds)?;
        let mut holders: Vec<u64> = values.iter().filter_map(holder_id).collect();
        holders.sort_unstable();
        holders.dedup();
        // Ties go to the lowest article id, for an answer that does not depend
        // on the order Redis answered in.
        let (state, sim, settled) = self
            .verify(&holders, signature, now, threshold)
            .into_iter()
            .min_by(|a, b| {
                b.1.total_cmp(&a.1)
                    .then(a.0.article_id.cmp(&b.0.article_id))
            })?;
        // A match still claiming may be a copy of a third article by the time
        // its claim resolves; its cluster is then that article's.
        let state = self.settled(state, settled, now);
        Some((stored(&state), sim))
    }

    fn insert(&mut self, e: &NewEntry<'_>) {
        let _ = self.write_record(e, true);
    }

    fn claim(&mut self, e: &NewEntry<'_>, threshold: f64) -> Option<(StoredArticle, f64)> {
        let contested = e.representative && !e.signature.is_empty();
        self.write_record(e, !contested)?;
        if !contested {
            return None;
        }
        let lost = self.contest(e, threshold);
        if lost.is_none() {
            // Won: settle. A loser is settled by the caller's insert as a copy.
            self.write_record(e, true)?;
        }
        lost
    }

    fn expire(&mut self, _now: u32) -> usize {
        // Redis expires keys by their TTL.
        0
    }

    fn stats(&self) -> IndexStats {
        // The entries live in Redis; its own INFO keyspace counts them.
        IndexStats::default()
    }

    fn shared(&self) -> bool {
        true
    }

    fn begin_input(&mut self, origin: u64) {
        self.origin = origin;
        self.before = None;
    }

    fn take_error(&mut self) -> Option<StoreError> {
        self.error.take().map(|e| StoreError(Box::new(e)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dedup::minhash::Compressed;

    fn state(id: u64, bands: bool) -> ArticleState {
        ArticleState {
            article_id: id,
            cluster_id: 7,
            content_hash: 9,
            version: 2,
            event_time: 1_700_000_000,
            signature: Compressed::EMPTY,
            band_keys: bands.then_some([3; BANDS]),
        }
    }

    #[test]
    fn records_round_trip_with_and_without_the_replaced_state() {
        for replaced in [None, Some(state(5, false))] {
            let r = Record {
                settled: replaced.is_some(),
                origin: 42,
                current: state(5, true),
                replaced,
            };
            assert_eq!(Record::decode(5, &r.encode()).unwrap(), r);
        }
    }

    #[test]
    fn malformed_records_are_errors_not_panics() {
        let good = Record {
            settled: true,
            origin: 1,
            current: state(5, true),
            replaced: Some(state(5, false)),
        }
        .encode();
        for cut in 0..good.len() {
            let _ = Record::decode(5, &good[..cut]);
        }
        assert!(Record::decode(5, &[2; 40]).is_err());
        assert!(Record::decode(5, &[]).is_err());
    }
}
