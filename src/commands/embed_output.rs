//! How `embed` hands its vectors over: a table, JSON lines, or a NumPy `.npy` file, after the
//! optional Matryoshka cut (`--dim`) and quantization (`--precision`).

use anyhow::{bail, Context, Result};
use clap::Args;
use edgebert_engine::compact::{
    quantize, truncate_dims, CompactMatrix, CompactValues, Int8Ranges, Precision,
};
use edgebert_engine::npy;
use serde::Serialize;
use std::path::PathBuf;

#[derive(Args, Debug, Clone)]
pub struct OutputArgs {
    /// Keep the first N dimensions and L2-normalise again (for Matryoshka-trained models).
    #[arg(long, value_name = "N")]
    pub dim: Option<usize>,
    /// Values per dimension: f32, f16, int8 or ubinary (1 bit, packed 8 per byte).
    #[arg(long, default_value = "f32", value_parser = parse_precision)]
    pub precision: Precision,
    /// int8 ranges as a .npy float32 matrix [2, dim] (minima, then maxima), as
    /// sentence-transformers' `ranges`; default: the ranges of the embedded texts.
    #[arg(long, value_name = "RANGES.npy")]
    pub int8_ranges: Option<PathBuf>,
    /// Write the vectors to this NumPy .npy file ([rows, dim]; float32, float16, int8 or uint8)
    /// instead of printing them.
    #[arg(long, short, value_name = "FILE.npy")]
    pub output: Option<PathBuf>,
}

fn parse_precision(s: &str) -> Result<Precision, String> {
    Precision::from_name(s).ok_or_else(|| format!("`{s}`: expected f32, f16, int8 or ubinary"))
}

impl OutputArgs {
    /// Full f32 vectors, printed.
    pub fn is_plain(&self) -> bool {
        self.dim.is_none() && self.precision == Precision::F32 && self.output.is_none()
    }
}

/// One output vector: of text `text`, or of window `chunk = (index, char span)` of it.
pub struct Row {
    pub text: usize,
    pub chunk: Option<(usize, (usize, usize))>,
    pub vector: Vec<f32>,
}

/// One `--json` line; a struct (not `json!`) keeps the key order and prints f32 values shortest.
#[derive(Serialize)]
struct EmbedLine<'a, T: Serialize> {
    #[serde(skip_serializing_if = "Option::is_none")]
    text: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    chunk: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    start: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    end: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    embedding: Option<&'a [T]>,
}

fn line<'a, T: Serialize>(row: &Row, embedding: Option<&'a [T]>) -> EmbedLine<'a, T> {
    let (text, chunk, start, end) = match row.chunk {
        Some((j, (s, e))) => (Some(row.text), Some(j), Some(s), Some(e)),
        None => (None, None, None, None),
    };
    EmbedLine { text, chunk, start, end, embedding }
}

pub fn write_rows(mut rows: Vec<Row>, texts: &[String], out: &OutputArgs, json: bool) -> Result<()> {
    let mut vectors: Vec<Vec<f32>> = rows.iter_mut().map(|r| std::mem::take(&mut r.vector)).collect();
    if let Some(dim) = out.dim {
        truncate_dims(&mut vectors, dim)?;
    }
    let ranges = match &out.int8_ranges {
        Some(path) if out.precision == Precision::Int8 => Some(read_ranges(path)?),
        Some(_) => bail!("--int8-ranges is for --precision int8"),
        None => None,
    };
    if out.precision == Precision::Int8 && ranges.is_none() && vectors.len() < 100 {
        eprintln!(
            "warning: int8 ranges calibrated on {} vectors only; for stable ranges embed more texts \
             or pass --int8-ranges",
            vectors.len()
        );
    }
    let matrix = quantize(&vectors, out.precision, ranges.as_ref())?;
    if let Some(path) = &out.output {
        std::fs::write(path, matrix.to_npy()).with_context(|| format!("cannot write {}", path.display()))?;
        eprintln!(
            "wrote {} ({} rows x {} {} values)",
            path.display(),
            matrix.rows,
            matrix.cols,
            npy_dtype(&matrix)
        );
        // Which window each row is: needed to map rows back to text.
        if rows.iter().any(|r| r.chunk.is_some()) {
            for r in &rows {
                outln!("{}", serde_json::to_string(&line::<f32>(r, None))?);
            }
        }
        return Ok(());
    }
    if json {
        for (i, r) in rows.iter().enumerate() {
            let text = match &matrix.values {
                CompactValues::F32(v) => serde_json::to_string(&line(r, Some(row(v, i, matrix.cols))))?,
                CompactValues::F16(v) => {
                    let wide: Vec<f32> = row(v, i, matrix.cols).iter().map(|x| x.to_f32()).collect();
                    serde_json::to_string(&line(r, Some(&wide[..])))?
                }
                CompactValues::Int8(v) => serde_json::to_string(&line(r, Some(row(v, i, matrix.cols))))?,
                CompactValues::UBinary(v) => serde_json::to_string(&line(r, Some(row(v, i, matrix.cols))))?,
            };
            outln!("{text}");
        }
        return Ok(());
    }
    print_table(&rows, &matrix, texts)?;
    Ok(())
}

fn row<T>(v: &[T], i: usize, cols: usize) -> &[T] {
    &v[i * cols..(i + 1) * cols]
}

fn npy_dtype(m: &CompactMatrix) -> &'static str {
    match m.values {
        CompactValues::F32(_) => "float32",
        CompactValues::F16(_) => "float16",
        CompactValues::Int8(_) => "int8",
        CompactValues::UBinary(_) => "uint8 (packed bits)",
    }
}

fn print_table(rows: &[Row], m: &CompactMatrix, texts: &[String]) -> Result<()> {
    outln!("{:>4}  {:>7}  {:<40}  text", "dims", "norm", "first values");
    for (i, r) in rows.iter().enumerate() {
        let values: Vec<f32> = match &m.values {
            CompactValues::F32(v) => row(v, i, m.cols).to_vec(),
            CompactValues::F16(v) => row(v, i, m.cols).iter().map(|x| x.to_f32()).collect(),
            CompactValues::Int8(v) => row(v, i, m.cols).iter().map(|&x| x as f32).collect(),
            CompactValues::UBinary(v) => row(v, i, m.cols).iter().map(|&x| x as f32).collect(),
        };
        let norm = values.iter().map(|v| v * v).sum::<f32>().sqrt();
        let head: Vec<String> = values.iter().take(4).map(|v| format!("{v:+.4}")).collect();
        let text = match r.chunk {
            Some((j, (s, e))) => format!(
                "[{}#{j} {s}..{e}] {}",
                r.text + 1,
                edgebert_engine::tokenizer::char_span(&texts[r.text], (s, e)).unwrap_or("")
            ),
            None => texts[r.text].clone(),
        };
        outln!("{:>4}  {norm:>7.4}  {:<40}  {}", m.cols, head.join(" ") + " …", crate::shorten(&text, 50));
    }
    Ok(())
}

/// A `[2, dim]` float32 .npy of minima and maxima.
fn read_ranges(path: &std::path::Path) -> Result<Int8Ranges> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let m = npy::decode(&bytes).with_context(|| format!("{}", path.display()))?;
    if m.rows != 2 {
        bail!(
            "{}: int8 ranges must be a [2, dim] matrix (minima, maxima); it is [{}, {}]",
            path.display(),
            m.rows,
            m.cols
        );
    }
    let v = m.to_f32();
    Ok(Int8Ranges { min: v[..m.cols].to_vec(), max: v[m.cols..].to_vec() })
}
