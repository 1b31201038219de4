//! Where the texts of `classify` and `embed` come from: arguments, a file, or standard input.

use anyhow::{bail, Context, Result};
use std::io::Read;
use std::path::Path;

/// Texts from the command line, or one per line of `file` (`-` is standard input). A line that
/// is not valid UTF-8 is an error naming its number; a trailing `\r` is dropped (Windows files).
pub fn read_texts(args: &[String], file: Option<&Path>) -> Result<Vec<String>> {
    match (args.is_empty(), file) {
        (false, Some(_)) => bail!("give texts as arguments or with --file, not both"),
        (false, None) => Ok(args.to_vec()),
        (true, Some(path)) => {
            let bytes = if path == Path::new("-") {
                let mut buf = Vec::new();
                std::io::stdin().read_to_end(&mut buf).context("cannot read standard input")?;
                buf
            } else {
                std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?
            };
            split_lines(&bytes).with_context(|| format!("{}", path.display()))
        }
        (true, None) => bail!("no input: give one or more TEXT arguments, or --file FILE (- for stdin)"),
    }
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
    use super::split_lines;

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
}
