//! Canonical page URLs and the site a URL belongs to: the article id derives
//! from the canonical URL, so two URLs a crawler reaches for one page must map
//! to the same string.

/// The site a URL belongs to: its host, lowercased, without a leading `www.`.
pub fn site_of(url: &url::Url) -> String {
    let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
    host.strip_prefix("www.").unwrap_or(&host).to_string()
}

/// Query parameters that identify a campaign or a click, not a page.
const TRACKING_PARAMS: [&str; 8] = [
    "fbclid", "gclid", "dclid", "msclkid", "igshid", "mc_cid", "mc_eid", "_ga",
];

/// The canonical form of a page URL: lowercase scheme and host, no `www.`, no
/// fragment, no default port, no tracking parameters, the remaining query
/// parameters sorted, and no trailing slash on a non-root path. Two URLs a crawler
/// reaches for the same page map to the same id.
pub fn canonical_url(url: &url::Url) -> String {
    let mut u = url.clone();
    u.set_fragment(None);
    let host = site_of(&u);
    let _ = u.set_host(Some(&host));
    let mut pairs: Vec<(String, String)> = u
        .query_pairs()
        .filter(|(k, _)| {
            let k = k.to_ascii_lowercase();
            !k.starts_with("utm_") && !TRACKING_PARAMS.contains(&k.as_str())
        })
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    pairs.sort();
    if pairs.is_empty() {
        u.set_query(None);
    } else {
        u.query_pairs_mut().clear().extend_pairs(pairs);
    }
    let path = u.path().to_string();
    if path.len() > 1 && path.ends_with('/') {
        u.set_path(path.trim_end_matches('/'));
    }
    u.to_string()
}
