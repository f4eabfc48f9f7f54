//! The zone a page's local times are in: a region's or country domain's zone,
//! and a UTC stamp moved into the page's zone when readers saw it so.

use chrono::{DateTime, FixedOffset};

use super::grammar::{DateContext, FoundDate};

/// The main zone of a country (ISO 3166 code), for the countries whose
/// publishers mostly write in one zone or whose readers' day is the capital's.
pub fn region_zone(r: &str) -> Option<chrono_tz::Tz> {
    use chrono_tz::{America, Asia, Australia, Europe, Pacific};
    Some(match r {
        "us" => America::New_York,
        "ca" => America::Toronto,
        "mx" => America::Mexico_City,
        "br" => America::Sao_Paulo,
        "ar" => America::Argentina::Buenos_Aires,
        "co" => America::Bogota,
        "cl" => America::Santiago,
        "pe" => America::Lima,
        "gb" | "uk" => Europe::London,
        "ie" => Europe::Dublin,
        "pt" => Europe::Lisbon,
        "es" => Europe::Madrid,
        "fr" => Europe::Paris,
        "be" => Europe::Brussels,
        "nl" => Europe::Amsterdam,
        "lu" => Europe::Luxembourg,
        "de" => Europe::Berlin,
        "at" => Europe::Vienna,
        "ch" => Europe::Zurich,
        "it" => Europe::Rome,
        "dk" => Europe::Copenhagen,
        "no" => Europe::Oslo,
        "se" => Europe::Stockholm,
        "fi" => Europe::Helsinki,
        "pl" => Europe::Warsaw,
        "cz" => Europe::Prague,
        "gr" => Europe::Athens,
        "tr" => Europe::Istanbul,
        "ua" => Europe::Kyiv,
        "ru" => Europe::Moscow,
        "il" => Asia::Jerusalem,
        "in" => Asia::Kolkata,
        "id" => Asia::Jakarta,
        "my" => Asia::Kuala_Lumpur,
        "sg" => Asia::Singapore,
        "ph" => Asia::Manila,
        "cn" => Asia::Shanghai,
        "tw" => Asia::Taipei,
        "hk" => Asia::Hong_Kong,
        "jp" => Asia::Tokyo,
        "kr" => Asia::Seoul,
        "vn" => Asia::Ho_Chi_Minh,
        "th" => Asia::Bangkok,
        "au" => Australia::Sydney,
        "nz" => Pacific::Auckland,
        "za" => chrono_tz::Africa::Johannesburg,
        "ng" => chrono_tz::Africa::Lagos,
        "ke" => chrono_tz::Africa::Nairobi,
        "eg" => chrono_tz::Africa::Cairo,
        _ => return None,
    })
}

/// The zone of the page's country-code domain (`.it`, `.co.uk`, `.com.au`).
pub fn country_zone(url: &str) -> Option<chrono_tz::Tz> {
    let u = url::Url::parse(url).ok()?;
    let host = u.host_str()?;
    let tld = host.rsplit('.').next()?.to_ascii_lowercase();
    region_zone(&tld)
}

/// A UTC stamp shown in the page's own zone (same instant): "09:10 WIB" is what
/// readers of an Indonesian page saw, and its calendar day is the page's.
///
/// A zone only inferred from the page's region or domain moves the calendar
/// day only when the URL's date confirms it: many publishers write their UTC
/// stamp's day as the publication day.
pub fn in_page_zone(
    d: &FoundDate,
    ctx: &DateContext,
    stated: bool,
    url_day: Option<&str>,
) -> FoundDate {
    let mut d = d.clone();
    if d.datetime.offset().local_minus_utc() == 0 && ctx.timezone != chrono_tz::UTC {
        let local = d.datetime.with_timezone(&ctx.timezone).fixed_offset();
        let day =
            |t: &DateTime<FixedOffset>| crate::event::rfc3339(t).get(..10).map(str::to_string);
        if stated || day(&local) == day(&d.datetime) || day(&local).as_deref() == url_day {
            d.datetime = local;
        }
    }
    d
}
