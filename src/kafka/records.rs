//! Pipeline records → Kafka records: topic, key, value and headers.
//!
//! Every output carries `warta-schema`, `warta-verdict` and `warta-source`
//! (`topic/partition/offset` of the input) plus the input's own headers. A dead
//! letter is the input itself (key, value bytes, headers) with
//! `warta-error-code` and `warta-error-message` added, so it can be replayed as is.

use crate::config::Settings;
use crate::event::SCHEMA_VERSION;
use crate::pipeline::{Payload, Record};

/// One record to produce, owned so it can outlive the input message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutRecord {
    pub topic: String,
    pub key: Option<Vec<u8>>,
    pub value: Vec<u8>,
    pub headers: Vec<(String, Vec<u8>)>,
}

/// What the output needs to know about the input it came from.
#[derive(Debug, Clone)]
pub struct InputRef<'a> {
    pub topic: &'a str,
    pub partition: i32,
    pub offset: i64,
    pub key: Option<&'a [u8]>,
    pub value: &'a [u8],
    pub headers: &'a [(String, Vec<u8>)],
}

pub const HEADER_SCHEMA: &str = "warta-schema";
pub const HEADER_VERDICT: &str = "warta-verdict";
pub const HEADER_SOURCE: &str = "warta-source";
pub const HEADER_ERROR_CODE: &str = "warta-error-code";
pub const HEADER_ERROR_MESSAGE: &str = "warta-error-message";
/// On a truncated dead letter: the original value's length in bytes.
pub const HEADER_TRUNCATED: &str = "warta-truncated";

/// Largest dead-letter value that fits the producer's `message.max.bytes`
/// (librdkafka's default 1,000,000) with room for key and headers.
fn dead_letter_limit(settings: &Settings) -> usize {
    let max = settings
        .kafka
        .producer
        .get("message.max.bytes")
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(1_000_000);
    max.saturating_sub(16 * 1024).max(1024)
}

/// Builds the Kafka records for one input's pipeline records.
pub fn to_kafka(settings: &Settings, input: &InputRef<'_>, records: &[Record]) -> Vec<OutRecord> {
    let source = format!("{}/{}/{}", input.topic, input.partition, input.offset);
    records
        .iter()
        .map(|r| {
            let topic = r.destination.topic(settings).to_string();
            let mut headers: Vec<(String, Vec<u8>)> = input
                .headers
                .iter()
                // An input that already went through warta (a replayed dead
                // letter) must not carry the old verdict or error forward.
                .filter(|(k, _)| !k.starts_with("warta-"))
                .cloned()
                .collect();
            headers.push((
                HEADER_SCHEMA.into(),
                SCHEMA_VERSION.to_string().into_bytes(),
            ));
            headers.push((HEADER_SOURCE.into(), source.clone().into_bytes()));
            match &r.payload {
                Payload::Rejected(rej) => {
                    headers.push((HEADER_VERDICT.into(), b"rejected".to_vec()));
                    headers.push((
                        HEADER_ERROR_CODE.into(),
                        rej.code.as_str().as_bytes().to_vec(),
                    ));
                    headers.push((
                        HEADER_ERROR_MESSAGE.into(),
                        rej.message.clone().into_bytes(),
                    ));
                    let mut value = input.value.to_vec();
                    // When the broker refused even the outputs, the input may be
                    // too large for it as well: keep what fits and say so.
                    let limit = dead_letter_limit(settings);
                    if rej.code == crate::event::RejectCode::OutputRejected && value.len() > limit {
                        headers.push((
                            HEADER_TRUNCATED.into(),
                            value.len().to_string().into_bytes(),
                        ));
                        value.truncate(limit);
                    }
                    OutRecord {
                        topic,
                        key: input.key.map(<[u8]>::to_vec),
                        value,
                        headers,
                    }
                }
                Payload::Article(a) => {
                    headers.push((
                        HEADER_VERDICT.into(),
                        a.verdict.as_str().as_bytes().to_vec(),
                    ));
                    OutRecord {
                        topic,
                        key: r.key.clone().map(String::into_bytes),
                        value: serde_json::to_vec(a).unwrap_or_default(),
                        headers,
                    }
                }
                Payload::Headline(h) => {
                    let verdict = match h.verdict {
                        crate::event::HeadlineVerdictKind::New => "new",
                        crate::event::HeadlineVerdictKind::Updated => "updated",
                    };
                    headers.push((HEADER_VERDICT.into(), verdict.as_bytes().to_vec()));
                    OutRecord {
                        topic,
                        key: r.key.clone().map(String::into_bytes),
                        value: serde_json::to_vec(h).unwrap_or_default(),
                        headers,
                    }
                }
            }
        })
        .collect()
}
