//! [`Summary`]: what a run did with its inputs, counted by outcome. `warta
//! process` prints one at the end; the Kafka service keeps one per batch and a
//! total. The outcomes always add up to the inputs ([`Summary::balanced`]).

use std::time::Duration;

use crate::event::ArticleVerdict;
use crate::pipeline::{HeadlineCounts, Outcome};

/// Counts of what happened; the outcomes add up to `inputs`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Summary {
    pub inputs: u64,
    /// Article pages, by verdict.
    pub new: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub duplicates: u64,
    /// Pages with a headline list and no article.
    pub index_pages: u64,
    pub rejected: u64,
    /// Headlines published (new or updated) and suppressed (seen before).
    pub headlines: u64,
    pub headlines_suppressed: u64,
    pub elapsed: Duration,
}

impl Summary {
    pub fn record(&mut self, outcome: Outcome) {
        self.inputs += 1;
        let headlines = match outcome {
            Outcome::Article { verdict, headlines } => {
                *match verdict {
                    ArticleVerdict::New => &mut self.new,
                    ArticleVerdict::Updated => &mut self.updated,
                    ArticleVerdict::Unchanged => &mut self.unchanged,
                    ArticleVerdict::Duplicate => &mut self.duplicates,
                } += 1;
                headlines
            }
            Outcome::HeadlinesOnly { headlines } => {
                self.index_pages += 1;
                headlines
            }
            Outcome::Rejected(_) => {
                self.rejected += 1;
                HeadlineCounts::default()
            }
        };
        self.headlines += headlines.published as u64;
        self.headlines_suppressed += headlines.suppressed as u64;
    }

    /// Adds another run's counts (a batch's, to the service's total); the
    /// elapsed time is the caller's to measure.
    pub fn add(&mut self, other: &Summary) {
        self.inputs += other.inputs;
        self.new += other.new;
        self.updated += other.updated;
        self.unchanged += other.unchanged;
        self.duplicates += other.duplicates;
        self.index_pages += other.index_pages;
        self.rejected += other.rejected;
        self.headlines += other.headlines;
        self.headlines_suppressed += other.headlines_suppressed;
    }

    /// Article pages of any verdict.
    pub fn articles(&self) -> u64 {
        self.new + self.updated + self.unchanged + self.duplicates
    }

    /// Whether every input is accounted for exactly once.
    pub fn balanced(&self) -> bool {
        self.articles() + self.index_pages + self.rejected == self.inputs
    }

    pub fn pages_per_sec(&self) -> f64 {
        let secs = self.elapsed.as_secs_f64();
        if secs > 0.0 {
            self.inputs as f64 / secs
        } else {
            0.0
        }
    }
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "pages={} articles={} (new={} updated={} unchanged={} duplicate={}) index_pages={} rejected={} headlines={} headlines_suppressed={} elapsed={:.3}s pages_per_sec={:.0}",
            self.inputs,
            self.articles(),
            self.new,
            self.updated,
            self.unchanged,
            self.duplicates,
            self.index_pages,
            self.rejected,
            self.headlines,
            self.headlines_suppressed,
            self.elapsed.as_secs_f64(),
            self.pages_per_sec()
        )
    }
}
