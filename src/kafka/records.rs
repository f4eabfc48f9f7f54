//! Pipeline records → Kafka records: topic, key, value and headers.
//!
//! Every output carries `warta-schema`, `warta-verdict` and `warta-source`
//! (`topic/partition/offset` of the input) plus the input's own headers. A dead
//! letter is the input itself (key, value bytes, headers) with
//! `warta-error-code` and `warta-error-message` added, so it can be replayed as is.

use crate::config::Settings;
use crate::event::{RejectCode, Rejected, SCHEMA_VERSION};
use crate::pipeline::{Destination, Payload, Record};

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

/// An output value that could not be serialized. serde_json fails only on
/// maps with non-string keys or a failing `Serialize` impl, so this is a defect
/// in warta; the caller dead-letters the input rather than publish an empty
/// record.
#[derive(Debug, thiserror::Error)]
#[error("cannot serialize the {what} made from {source_ref}")]
pub struct SerializeError {
    what: &'static str,
    source_ref: String,
    #[source]
    source: serde_json::Error,
}

/// Builds the Kafka records for one input's pipeline records. Fails, and
/// builds none, when an article or headline cannot be serialized; a dead
/// letter (the input's own bytes) never fails.
pub fn to_kafka(
    settings: &Settings,
    input: &InputRef<'_>,
    records: &[Record],
) -> Result<Vec<OutRecord>, SerializeError> {
    let source = source_ref(input);
    let json = |what: &'static str, v: Result<Vec<u8>, serde_json::Error>| {
        v.map_err(|e| SerializeError {
            what,
            source_ref: source.clone(),
            source: e,
        })
    };
    records
        .iter()
        .map(|r| {
            let topic = r.destination.topic(settings).to_string();
            match &r.payload {
                Payload::Rejected(rej) => Ok(dead_letter(settings, input, rej)),
                Payload::Article(a) => Ok(OutRecord {
                    topic,
                    key: r.key.clone().map(String::into_bytes),
                    value: json("article", serde_json::to_vec(a))?,
                    headers: output_headers(input, a.verdict.as_str()),
                }),
                Payload::Headline(h) => {
                    let verdict = match h.verdict {
                        crate::event::HeadlineVerdictKind::New => "new",
                        crate::event::HeadlineVerdictKind::Updated => "updated",
                    };
                    Ok(OutRecord {
                        topic,
                        key: r.key.clone().map(String::into_bytes),
                        value: json("headline", serde_json::to_vec(h))?,
                        headers: output_headers(input, verdict),
                    })
                }
            }
        })
        .collect()
}

/// The dead letter of one input: its key, value bytes and headers, with the
/// rejection's code and message added. Nothing is serialized, so it cannot fail.
pub fn dead_letter(settings: &Settings, input: &InputRef<'_>, rej: &Rejected) -> OutRecord {
    let mut headers = output_headers(input, "rejected");
    headers.push((
        HEADER_ERROR_CODE.into(),
        rej.code.as_str().as_bytes().to_vec(),
    ));
    headers.push((
        HEADER_ERROR_MESSAGE.into(),
        rej.message.clone().into_bytes(),
    ));
    let mut value = input.value.to_vec();
    // When the broker refused even the outputs, the input may be too large for
    // it as well: keep what fits and say so.
    let limit = dead_letter_limit(settings);
    if rej.code == RejectCode::OutputRejected && value.len() > limit {
        headers.push((
            HEADER_TRUNCATED.into(),
            value.len().to_string().into_bytes(),
        ));
        value.truncate(limit);
    }
    OutRecord {
        topic: Destination::DeadLetter.topic(settings).to_string(),
        key: input.key.map(<[u8]>::to_vec),
        value,
        headers,
    }
}

fn source_ref(input: &InputRef<'_>) -> String {
    format!("{}/{}/{}", input.topic, input.partition, input.offset)
}

/// The input's own headers (less any `warta-` ones: a replayed dead letter
/// must not carry the old verdict or error forward), then the schema version,
/// the input's position and the verdict.
fn output_headers(input: &InputRef<'_>, verdict: &str) -> Vec<(String, Vec<u8>)> {
    let mut headers: Vec<(String, Vec<u8>)> = input
        .headers
        .iter()
        .filter(|(k, _)| !k.starts_with("warta-"))
        .cloned()
        .collect();
    headers.push((
        HEADER_SCHEMA.into(),
        SCHEMA_VERSION.to_string().into_bytes(),
    ));
    headers.push((HEADER_SOURCE.into(), source_ref(input).into_bytes()));
    headers.push((HEADER_VERDICT.into(), verdict.as_bytes().to_vec()));
    headers
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Settings;
    use crate::event::{InvalidInput, SourceRef};

    fn input<'a>(value: &'a [u8], headers: &'a [(String, Vec<u8>)]) -> InputRef<'a> {
        InputRef {
            topic: "raw-pages",
            partition: 1,
            offset: 7,
            key: Some(b"k"),
            value,
            headers,
        }
    }

    #[test]
    fn a_dead_letter_is_the_input_with_its_code_and_without_old_verdicts() {
        let settings = Settings::defaults().unwrap();
        let headers = vec![
            ("crawler-run".to_string(), b"42".to_vec()),
            ("warta-error-code".to_string(), b"no_content".to_vec()),
        ];
        let value = b"{\"url\":1}";
        let processed = crate::pipeline::reject(
            InvalidInput::new(RejectCode::OutputUnserializable, "cannot serialize"),
            SourceRef::Line { line: 1 },
            value,
        );
        let out = to_kafka(&settings, &input(value, &headers), &processed.records).unwrap();
        assert_eq!(out.len(), 1);
        let r = &out[0];
        assert_eq!(r.topic, settings.topics.dead_letter);
        assert_eq!(r.value, value);
        assert_eq!(r.key.as_deref(), Some(&b"k"[..]));
        let get = |k: &str| -> Vec<&[u8]> {
            r.headers
                .iter()
                .filter(|(n, _)| n == k)
                .map(|(_, v)| v.as_slice())
                .collect()
        };
        assert_eq!(get("crawler-run"), [b"42"]);
        assert_eq!(get(HEADER_ERROR_CODE), [b"output_unserializable"]);
        assert_eq!(get(HEADER_VERDICT), [b"rejected"]);
        assert_eq!(get(HEADER_SOURCE), [b"raw-pages/1/7"]);
    }

    #[test]
    fn a_serialize_error_names_the_record_and_the_input() {
        let source = serde_json::from_str::<serde_json::Value>("{").unwrap_err();
        let e = SerializeError {
            what: "article",
            source_ref: "raw-pages/1/7".into(),
            source,
        };
        assert_eq!(
            e.to_string(),
            "cannot serialize the article made from raw-pages/1/7"
        );
        assert!(std::error::Error::source(&e).is_some());
    }
}
