//! A found date as an article reports it: [`Published`], with the text it was
//! read from and where.

use super::grammar::FoundDate;
use crate::event::{DateSource, Published};

/// A found date as the article reports it, with the text it was read from
/// (at most 200 characters).
pub fn published_from(d: &FoundDate, raw: &str, source: DateSource) -> Published {
    Published {
        value: crate::event::rfc3339(&d.datetime),
        precision: d.precision,
        source,
        raw: raw.chars().take(200).collect(),
        flags: d.flags.clone(),
    }
}
