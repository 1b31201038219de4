//! Where the texts of `classify`, `embed`, `tag` and `fill` come from: arguments, a file, or
//! standard input; sentence pairs as two arguments each or two tab-separated columns per line.

use anyhow::{bail, Context, Result};
use std::io::Read;
use std::path::Path;

/// Texts from the command line, or one per line of `file` (`-` is standard input). A line that
/// is not valid UTF-8 is an error naming its number; a trailing `\r` is dropped (Windows files).
pub fn read_texts(args: &[String], file: Option<&Path>) -> Result<Vec<String>> {
    match (args.is_empty(), file) {
        (false, Some(_)) => usage_bail!("give texts as arguments or with --file, not both"),
        (false, None) => Ok(args.to_vec()),
        (true, Some(path)) => split_lines(&read_bytes(path)?).with_context(|| format!("{}", path.display())),
        (true, None) => {
            usage_bail!("no input: give one or more TEXT arguments, or --file FILE (- for stdin)")
        }
    }
}

/// The whole of `path` (`-` is standard input) as one text; invalid UTF-8 is an error.
pub fn read_file_text(path: &Path) -> Result<String> {
    String::from_utf8(read_bytes(path)?).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        anyhow::anyhow!("{}: invalid UTF-8 at byte {at}", path.display())
    })
}

fn read_bytes(path: &Path) -> Result<Vec<u8>> {
    if path == Path::new("-") {
        let mut buf = Vec::new();
        std::io::stdin().read_to_end(&mut buf).context("cannot read standard input")?;
        Ok(buf)
    } else {
        std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))
    }
}

/// Sentence pairs: arguments taken two at a time (`A1 B1 A2 B2 …`), or one pair per line of
/// `file` as two tab-separated columns.
pub fn read_pairs(args: &[String], file: Option<&Path>) -> Result<Vec<(String, String)>> {
    if file.is_none() && args.len() % 2 == 1 {
        usage_bail!("--pair takes texts two by two (first, second); {} texts given", args.len());
    }
    let texts = read_texts(args, file)?;
    if file.is_none() {
        return Ok(texts.chunks_exact(2).map(|p| (p[0].clone(), p[1].clone())).collect());
    }
    texts
        .iter()
        .enumerate()
        .map(|(i, line)| match line.split_once('\t') {
            Some((a, b)) if !b.contains('\t') => Ok((a.to_string(), b.to_string())),
            _ => bail!("line {}: expected two tab-separated columns (first text, second text)", i + 1),
        })
        .collect::<Result<_>>()
        .with_context(|| format!("{}", file.map_or(Path::new("-"), |f| f).display()))
}

fn split_lines(bytes: &[u8]) -> Result<Vec<String>> {
    let body = bytes.strip_suffix(b"\n").unwrap_or(bytes);
    if body.is_empty() && bytes.is_empty() {
        return Ok(Vec::new());
    }
    body.split(|&b| b == b'\n')
        .enumerate()
        .map(|(i, line)| {
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            match std::str::from_utf8(line) {
                Ok(s) => Ok(s.to_string()),
                Err(e) => bail!("line {}: invalid UTF-8 at byte {} of the line", i + 1, e.valid_up_to()),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::{read_pairs, split_lines};

    #[test]
    fn splits_lines_keeping_empty_ones() {
        assert_eq!(split_lines(b"a\n\nb\r\n").unwrap(), vec!["a", "", "b"]);
        assert_eq!(split_lines(b"").unwrap(), Vec::<String>::new());
        assert_eq!(split_lines(b"\n").unwrap(), vec![""]);
    }

    #[test]
    fn invalid_utf8_names_the_line() {
        let err = split_lines(b"fine\nbad \xff here\n").unwrap_err().to_string();
        assert!(err.contains("line 2"), "{err}");
    }

    #[test]
    fn pairs_from_arguments_two_by_two() {
        let args: Vec<String> = ["a", "b", "c", "d"].iter().map(|s| s.to_string()).collect();
        let pairs = read_pairs(&args, None).unwrap();
        assert_eq!(pairs, vec![("a".into(), "b".into()), ("c".into(), "d".into())]);
        let err = read_pairs(&args[..3], None).unwrap_err().to_string();
        assert!(err.contains("two by two"), "{err}");
    }

    #[test]
    fn pairs_from_a_tsv_need_exactly_two_columns() {
        let dir = std::env::temp_dir().join(format!("edgebert-pairs-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let good = dir.join("good.tsv");
        std::fs::write(&good, "A man.\tA person.\r\n\tOnly a second text.\n").unwrap();
        let pairs = read_pairs(&[], Some(&good)).unwrap();
        assert_eq!(pairs[0], ("A man.".into(), "A person.".into()));
        assert_eq!(pairs[1], ("".into(), "Only a second text.".into()));
        let bad = dir.join("bad.tsv");
        std::fs::write(&bad, "a\tb\nno tab here\n").unwrap();
        let err = format!("{:#}", read_pairs(&[], Some(&bad)).unwrap_err());
        assert!(err.contains("line 2") && err.contains("bad.tsv"), "{err}");
        std::fs::write(&bad, "a\tb\tc\n").unwrap();
        assert!(format!("{:#}", read_pairs(&[], Some(&bad)).unwrap_err()).contains("line 1"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
