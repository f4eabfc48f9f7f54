//! The context a page's dates are read in: the fetch time as "now", the zone
//! local times are in, and the day/month order of numeric dates.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use super::grammar::DateContext;
use super::zone::{country_zone, region_zone};
use crate::parse::lang::{DateOrder, Language};

/// The context for a page fetched at `reference`. The zone is the configured
/// one (`configured`: the site's, then the event's), then the page's region
/// (`en-US`, `og:locale` en_GB), then its country domain (`url`), then the
/// language's default, then UTC. Also returns whether the zone was stated:
/// configured or the language's own, not guessed from a region or a domain.
pub fn page_context(
    reference: DateTime<Utc>,
    configured: Option<Tz>,
    language: Option<&Language>,
    region: Option<&str>,
    url: Option<&str>,
) -> (DateContext, bool) {
    let ctx = DateContext {
        reference,
        timezone: configured
            .or(region.and_then(region_zone))
            .or_else(|| url.and_then(country_zone))
            .or(language.map(|l| l.default_timezone))
            .unwrap_or(chrono_tz::UTC),
        // English outside the US writes day first (en-GB, en-AU, en-IN, …).
        order: match (language.map(|l| l.numeric_date_order), region) {
            (Some(DateOrder::Mdy), Some(r)) if r != "us" => DateOrder::Dmy,
            (Some(o), _) => o,
            (None, _) => DateOrder::Dmy,
        },
    };
    let stated =
        configured.is_some() || language.is_some_and(|l| l.default_timezone == ctx.timezone);
    (ctx, stated)
}
