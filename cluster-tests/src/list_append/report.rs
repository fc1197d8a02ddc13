//! What the checker found: counts, and each anomaly with the transactions involved.

use std::fmt;

use serde::Serialize;

use super::graph::EdgeCounts;
use super::history::Txn;

/// Anomalies shown by `Display`; the JSON has all of them.
const SHOWN_MAX: usize = 20;

/// The kinds of anomaly the checker reports, with Elle's names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum AnomalyKind {
    /// Write cycle: ww edges only.
    #[serde(rename = "G0")]
    G0,
    /// Aborted read: a value appended by a failed transaction was read.
    #[serde(rename = "G1a")]
    G1a,
    /// Intermediate read: a read ended at an append its transaction later followed with another
    /// append to the same key.
    #[serde(rename = "G1b")]
    G1b,
    /// Circular information flow: ww and wr edges.
    #[serde(rename = "G1c")]
    G1c,
    /// Read skew: a cycle with exactly one rw edge.
    #[serde(rename = "G-single")]
    GSingle,
    /// Write skew and kin: a cycle with several rw edges.
    #[serde(rename = "G2")]
    G2,
    #[serde(rename = "G0-realtime")]
    G0Realtime,
    #[serde(rename = "G1c-realtime")]
    G1cRealtime,
    /// A stale read, typically: the cycle needs a real-time edge.
    #[serde(rename = "G-single-realtime")]
    GSingleRealtime,
    #[serde(rename = "G2-realtime")]
    G2Realtime,
    /// An acknowledged append that no read saw, though a read began after it was acknowledged.
    #[serde(rename = "lost-update")]
    LostUpdate,
    /// A read returned the same value twice.
    #[serde(rename = "duplicate-elements")]
    DuplicateElements,
    /// Two reads of a key where neither is a prefix of the other.
    #[serde(rename = "incompatible-order")]
    IncompatibleOrder,
    /// A read returned a value nobody appended.
    #[serde(rename = "garbage-read")]
    GarbageRead,
    /// A read that contradicts its own transaction's earlier reads and appends.
    #[serde(rename = "internal")]
    Internal,
}

impl AnomalyKind {
    /// Elle's name of the anomaly.
    pub fn name(self) -> &'static str {
        match self {
            AnomalyKind::G0 => "G0",
            AnomalyKind::G1a => "G1a",
            AnomalyKind::G1b => "G1b",
            AnomalyKind::G1c => "G1c",
            AnomalyKind::GSingle => "G-single",
            AnomalyKind::G2 => "G2",
            AnomalyKind::G0Realtime => "G0-realtime",
            AnomalyKind::G1cRealtime => "G1c-realtime",
            AnomalyKind::GSingleRealtime => "G-single-realtime",
            AnomalyKind::G2Realtime => "G2-realtime",
            AnomalyKind::LostUpdate => "lost-update",
            AnomalyKind::DuplicateElements => "duplicate-elements",
            AnomalyKind::IncompatibleOrder => "incompatible-order",
            AnomalyKind::GarbageRead => "garbage-read",
            AnomalyKind::Internal => "internal",
        }
    }

    /// The kind for a cycle class name of the graph search.
    ///
    /// # Panics
    /// On a name the graph search does not produce (a programming error).
    pub fn from_cycle_class(name: &str) -> AnomalyKind {
        match name {
            "G0" => AnomalyKind::G0,
            "G1c" => AnomalyKind::G1c,
            "G-single" => AnomalyKind::GSingle,
            "G2" => AnomalyKind::G2,
            "G0-realtime" => AnomalyKind::G0Realtime,
            "G1c-realtime" => AnomalyKind::G1cRealtime,
            "G-single-realtime" => AnomalyKind::GSingleRealtime,
            "G2-realtime" => AnomalyKind::G2Realtime,
            other => panic!("unknown cycle class {other}"),
        }
    }
}

impl fmt::Display for AnomalyKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One edge of a cycle, with the observation behind it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CycleStep {
    pub from: usize,
    pub to: usize,
    /// `ww`, `wr`, `rw` or `realtime`.
    pub kind: String,
    pub because: String,
}

/// One anomaly.
#[derive(Debug, Clone, Serialize)]
pub struct Anomaly {
    pub kind: AnomalyKind,
    pub explanation: String,
    /// Indices (in the checked slice) of the transactions involved.
    pub txn_indices: Vec<usize>,
    /// Those transactions, so the JSON stands on its own.
    pub txns: Vec<Txn>,
    /// For a cycle, its edges in order; empty otherwise.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub cycle: Vec<CycleStep>,
}

impl Anomaly {
    pub(crate) fn new(kind: AnomalyKind, explanation: String, all: &[Txn], indices: Vec<usize>) -> Anomaly {
        let txns = indices.iter().map(|&i| all[i].clone()).collect();
        Anomaly { kind, explanation, txn_indices: indices, txns, cycle: Vec::new() }
    }
}

/// The checker's verdict.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub txns: usize,
    pub ok: usize,
    pub failed: usize,
    pub unknown: usize,
    /// Unknown-outcome transactions some read proved committed.
    pub unknown_committed: usize,
    pub keys: usize,
    pub edges: EdgeCounts,
    pub anomalies: Vec<Anomaly>,
}

impl Report {
    /// Whether the history is strictly serializable and free of the other anomalies.
    pub fn is_valid(&self) -> bool {
        self.anomalies.is_empty()
    }

    /// The distinct kinds of anomaly found, sorted.
    pub fn kinds(&self) -> Vec<AnomalyKind> {
        let mut kinds: Vec<AnomalyKind> = self.anomalies.iter().map(|a| a.kind).collect();
        kinds.sort_unstable();
        kinds.dedup();
        kinds
    }

    /// The report as JSON, for a verdict file.
    ///
    /// # Panics
    /// Never in practice: every field serializes.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a report always serializes")
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{} transactions: {} ok, {} failed, {} unknown ({} of them seen committed); {} keys; edges: {} ww, {} wr, \
             {} rw, {} realtime",
            self.txns,
            self.ok,
            self.failed,
            self.unknown,
            self.unknown_committed,
            self.keys,
            self.edges.ww,
            self.edges.wr,
            self.edges.rw,
            self.edges.realtime
        )?;
        if self.is_valid() {
            return writeln!(f, "valid: strictly serializable, no anomalies");
        }
        let kinds: Vec<String> = self
            .kinds()
            .into_iter()
            .map(|k| format!("{k} x{}", self.anomalies.iter().filter(|a| a.kind == k).count()))
            .collect();
        writeln!(f, "INVALID: {} anomalies ({})", self.anomalies.len(), kinds.join(", "))?;
        for anomaly in self.anomalies.iter().take(SHOWN_MAX) {
            writeln!(f, "- {}: {}", anomaly.kind, anomaly.explanation)?;
            for step in &anomaly.cycle {
                writeln!(f, "    T{} -{}-> T{}: {}", step.from, step.kind, step.to, step.because)?;
            }
            for (index, txn) in anomaly.txn_indices.iter().zip(&anomaly.txns) {
                writeln!(f, "    T{index}: {txn}")?;
            }
        }
        if self.anomalies.len() > SHOWN_MAX {
            writeln!(f, "... and {} more (see the JSON)", self.anomalies.len() - SHOWN_MAX)?;
        }
        Ok(())
    }
}
