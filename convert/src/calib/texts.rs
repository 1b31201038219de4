//! The calibration texts: read from a file, a deterministic subset when there are too many.

use crate::eval::read_examples;
use anyhow::Result;
use std::path::Path;

/// Texts read from `path` and how they were chosen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CalibTexts {
    pub texts: Vec<String>,
    /// Non-empty lines in the file.
    pub available: usize,
    /// Whether the file had `label<TAB>text` rows (the text column was taken).
    pub tabular: bool,
}

/// Reads one text per line, or the text column of `label<TAB>text` rows (a `.tsv` as
/// `edgebert eval --data` reads it, header skipped), and keeps at most `limit` of them, evenly
/// spaced through the file (rows `i · available / limit`): the same texts for the same file.
pub fn read_calib_texts(path: &Path, limit: usize) -> Result<CalibTexts> {
    let examples = read_examples(path)?;
    let tabular = examples.iter().any(|e| e.label.is_some());
    let available = examples.len();
    let keep = limit.clamp(1, available);
    let texts = (0..keep).map(|i| examples[i * available / keep].text.clone()).collect();
    Ok(CalibTexts { texts, available, tabular })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selection_is_evenly_spaced_and_takes_the_text_column() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.tsv");
        let rows: String = (0..10).map(|i| format!("{}\ttext {i}\n", i % 2)).collect();
        std::fs::write(&path, format!("label\ttext\n{rows}")).unwrap();
        let got = read_calib_texts(&path, 4).unwrap();
        assert_eq!(got.texts, ["text 0", "text 2", "text 5", "text 7"]);
        assert!(got.tabular);
        assert_eq!(got.available, 10);
        assert_eq!(read_calib_texts(&path, 100).unwrap().texts.len(), 10);
    }
}
