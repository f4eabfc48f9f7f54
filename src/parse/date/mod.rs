//! Publication dates, for both page kinds: the grammar that reads the date
//! and time shapes pages print, and every rule that decides which date a page
//! was published on and in which zone.
//!
//! - [`grammar`]: strings → dates (tokens, a small recursive-descent grammar,
//!   year and weekday inference), in any language with a data file.
//! - [`machine`]: ISO 8601, RFC 2822 and the dates scripts embed in JSON.
//! - [`from_url`]: the day a URL's path carries.
//! - [`visible`]: an HTML page's visible date line and its label.
//! - [`zone`] and [`context`]: the zone and day/month order a page's dates are
//!   read in.
//! - [`resolve`]: the precedence between all these sources.
//! - [`published`]: the [`Published`](crate::event::Published) value reported.
//!
//! This module knows the language data and the event's date types; it knows
//! nothing of the DOM or of the text-page line classes: callers hand it
//! strings, [`visible::Block`]s and [`resolve::Statement`]s.

pub mod context;
pub mod from_url;
pub mod grammar;
pub mod machine;
pub mod published;
pub mod resolve;
pub mod visible;
pub mod zone;

pub use context::page_context;
pub use grammar::{DateContext, DateParser, DateRejected, FoundDate};
pub use machine::parse_machine_date;
pub use published::published_from;
pub use resolve::{html_published, metadata_date, text_published};

/// The context the date modules' tests read in: fetched at the end of 2025,
/// Jakarta's zone, day first.
#[cfg(test)]
fn test_context() -> DateContext {
    DateContext {
        reference: chrono::DateTime::parse_from_rfc3339("2025-12-31T00:00:00Z")
            .map(|t| t.with_timezone(&chrono::Utc))
            .unwrap_or_default(),
        timezone: chrono_tz::Asia::Jakarta,
        order: crate::parse::lang::DateOrder::Dmy,
    }
}
