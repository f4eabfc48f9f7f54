//! JSON Schemas (draft 2020-12) of warta's records, generated from the types in
//! [`crate::event`] so they cannot drift from what warta writes: the input
//! (`raw-pages`), each output topic's value, and the Kafka headers of every
//! output record. `schemas/<name>.v<SCHEMA_VERSION>.json` holds the checked-in
//! copy that `tests/schemas.rs` compares with these; `warta schema` prints them.

use schemars::{JsonSchema, Schema};
use serde::Serialize;
use serde_json::{json, Value};

use crate::event::{Article, Headline, RawPage, RejectCode, Rejected, SCHEMA_VERSION};

/// Every schema, by name: the topic names of the default configuration, plus
/// `kafka-headers`.
pub const NAMES: [&str; 6] = [
    "raw-pages",
    "clean-articles",
    "clean-headlines",
    "page-duplicates",
    "raw-pages-dlq",
    "kafka-headers",
];

/// The checked-in file name of a schema at the current version.
pub fn file_name(name: &str) -> String {
    format!("{name}.v{SCHEMA_VERSION}.json")
}

/// The schema called `name` (one of [`NAMES`]), or `None`.
pub fn schema(name: &str) -> Option<Value> {
    let mut s = match name {
        "raw-pages" => input::<RawPage>(),
        "clean-articles" => output::<Article>(),
        "clean-headlines" => output::<Headline>(),
        "page-duplicates" => {
            let mut s = output::<Article>();
            s["description"] = json!(
                "A near-duplicate article, published to `page-duplicates` (the audit trail \
                 of `dedup.duplicates = \"route\"`, the default): the same record as on \
                 `clean-articles`, always with verdict `duplicate`, `similarity` and \
                 `duplicate_of`. Kafka key: `cluster_id`, which equals `duplicate_of`'s \
                 cluster. Consumers must ignore fields they do not know."
            );
            if let Some(all) = s["allOf"].as_array_mut() {
                all.push(json!({"properties": {"verdict": {"const": "duplicate"}}}));
            }
            s
        }
        "raw-pages-dlq" => output::<Rejected>(),
        "kafka-headers" => output::<OutputHeaders>(),
        _ => return None,
    };
    s["title"] = json!(name);
    Some(s)
}

/// Every schema as `(name, schema)`, in [`NAMES`] order.
pub fn all() -> Vec<(&'static str, Value)> {
    NAMES
        .iter()
        .map(|n| (*n, schema(n).expect("every name has a schema")))
        .collect()
}

/// The text of a schema file: pretty JSON with a trailing newline.
pub fn to_file_text(schema: &Value) -> String {
    let mut s = serde_json::to_string_pretty(schema).expect("a schema serializes");
    s.push('\n');
    s
}

/// What warta accepts: a field serde may leave out (an `Option`) is optional.
fn input<T: JsonSchema>() -> Value {
    generate::<T>(schemars::generate::SchemaSettings::draft2020_12().for_deserialize())
}

/// What warta writes: a field is optional only when it is skipped when empty,
/// so `"title": null` is required-and-nullable while `similarity` is absent.
fn output<T: JsonSchema>() -> Value {
    generate::<T>(schemars::generate::SchemaSettings::draft2020_12().for_serialize())
}

fn generate<T: JsonSchema>(settings: schemars::generate::SchemaSettings) -> Value {
    let schema: Schema = settings.into_generator().into_root_schema_for::<T>();
    schema.to_value()
}

/// The Kafka headers of every record warta publishes, as a JSON object of
/// header name → UTF-8 value. Headers the input record carried (other than
/// `warta-*`, which are replaced) are passed through unchanged, so any other
/// name may appear. A model for documentation and validation; the headers
/// themselves are written by `kafka::records`.
#[derive(Debug, Serialize, JsonSchema)]
#[schemars(extend(
    "additionalProperties" = {"type": "string"},
    "if" = {"properties": {"warta-verdict": {"const": "rejected"}}},
    "then" = {"required": ["warta-error-code", "warta-error-message"]},
    "else" = {"not": {"anyOf": [
        {"required": ["warta-error-code"]},
        {"required": ["warta-error-message"]},
        {"required": ["warta-truncated"]}
    ]}}
))]
pub struct OutputHeaders {
    /// The record's `schema_version`, in decimal (`1`). On every output,
    /// dead letters included.
    #[serde(rename = "warta-schema")]
    #[schemars(pattern("^[1-9][0-9]*$"))]
    pub schema: String,
    /// The input record this output came from: `topic/partition/offset`
    /// (`raw-pages/0/1234`). On every output.
    #[serde(rename = "warta-source")]
    #[schemars(pattern("^.+/[0-9]+/[0-9]+$"))]
    pub source: String,
    /// The article's verdict, the headline's verdict, or `rejected` on a dead
    /// letter. On every output.
    #[serde(rename = "warta-verdict")]
    pub verdict: HeaderVerdict,
    /// Dead letters only: the rejection code (as `code` in `raw-pages-dlq`'s
    /// JSON form).
    #[serde(rename = "warta-error-code", skip_serializing_if = "Option::is_none")]
    #[schemars(with = "RejectCode")]
    pub error_code: Option<RejectCode>,
    /// Dead letters only: what was wrong, for people.
    #[serde(
        rename = "warta-error-message",
        skip_serializing_if = "Option::is_none"
    )]
    #[schemars(with = "String")]
    pub error_message: Option<String>,
    /// Dead letters only, when the input was too large to publish whole (code
    /// `output_rejected`): the original value's length in bytes, in decimal;
    /// the value holds its first bytes.
    #[serde(rename = "warta-truncated", skip_serializing_if = "Option::is_none")]
    #[schemars(with = "String", pattern("^[0-9]+$"))]
    pub truncated: Option<String>,
}

/// The `warta-verdict` header's values.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum HeaderVerdict {
    /// A new article (`clean-articles`) or headline (`clean-headlines`).
    New,
    /// An updated article or headline.
    Updated,
    /// A near-duplicate article (`page-duplicates`, or `clean-articles` under
    /// `dedup.duplicates = "mark"`).
    Duplicate,
    /// A dead letter (`raw-pages-dlq`).
    Rejected,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_has_a_titled_draft_2020_12_schema() {
        for (name, s) in all() {
            assert_eq!(s["title"], name);
            assert_eq!(
                s["$schema"], "https://json-schema.org/draft/2020-12/schema",
                "{name}"
            );
        }
        assert!(schema("no-such-topic").is_none());
    }
}
