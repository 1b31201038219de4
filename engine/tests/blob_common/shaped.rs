//! Blobs laid out exactly like `edgebert convert` writes BERT encoders in int8 (same names,
//! encodings, shapes, order), with zero data: for the open benchmark and the resident-memory
//! test, where only the layout matters.
#![allow(dead_code)]

use edgebert_engine::blob::encode::{plan, EntrySpec};
use edgebert_engine::blob::format::{parts, Encoding, Layout};
use edgebert_engine::blob::{crc32c, MetaValue};
use std::io::Write;
use std::path::PathBuf;

pub struct Shape {
    pub name: &'static str,
    pub hidden: usize,
    pub layers: usize,
}

/// Entries in the order and encodings `edgebert convert` writes (int8 weights and tables).
pub fn entries(s: &Shape) -> Vec<EntrySpec> {
    let (h, f) = (s.hidden, 4 * s.hidden);
    let mut v: Vec<(String, Encoding, Layout, Vec<usize>)> = vec![
        ("embeddings.word_embeddings.weight".into(), Encoding::I8Row, Layout::RowMajor, vec![30522, h]),
        ("embeddings.position_embeddings.weight".into(), Encoding::I8Row, Layout::RowMajor, vec![512, h]),
        ("embeddings.token_type_embeddings.weight".into(), Encoding::I8Row, Layout::RowMajor, vec![2, h]),
        ("embeddings.LayerNorm.weight".into(), Encoding::F32, Layout::RowMajor, vec![h]),
        ("embeddings.LayerNorm.bias".into(), Encoding::F32, Layout::RowMajor, vec![h]),
    ];
    for i in 0..s.layers {
        let linears = [
            ("attention.self.query", h, h),
            ("attention.self.key", h, h),
            ("attention.self.value", h, h),
            ("attention.output.dense", h, h),
            ("intermediate.dense", f, h),
            ("output.dense", h, f),
        ];
        for (name, n, k) in linears {
            let p = format!("encoder.layer.{i}.{name}");
            v.push((format!("{p}.weight"), Encoding::I8Channel, Layout::Panel16, vec![n, k]));
            v.push((format!("{p}.bias"), Encoding::F32, Layout::RowMajor, vec![n]));
        }
        for norm in ["attention.output.LayerNorm", "output.LayerNorm"] {
            for t in ["weight", "bias"] {
                v.push((format!("encoder.layer.{i}.{norm}.{t}"), Encoding::F32, Layout::RowMajor, vec![h]));
            }
        }
    }
    v.push(("tokenizer.json".into(), Encoding::U8, Layout::RowMajor, vec![466_247]));
    v.into_iter()
        .map(|(name, encoding, layout, shape)| {
            let byte_len = parts(encoding, layout, &shape).expect("bench shapes are small").byte_len;
            EntrySpec { name, encoding, layout, shape, byte_len, data_crc32c: crc32c(&vec![0u8; byte_len]) }
        })
        .collect()
}

pub fn write_blob(s: &Shape) -> PathBuf {
    let meta: Vec<(String, MetaValue)> = vec![
        ("config.architecture".into(), MetaValue::Str("BertModel".into())),
        ("config.hidden_size".into(), MetaValue::U64(s.hidden as u64)),
        ("config.id2label".into(), MetaValue::StrList(Vec::new())),
    ];
    let specs = entries(s);
    let layout = plan(&meta, &specs);
    let path = std::env::temp_dir().join(format!("edgebert-bench-{}-{}.ebq", s.name, std::process::id()));
    let mut file = std::io::BufWriter::new(std::fs::File::create(&path).expect("temp file"));
    file.write_all(&layout.prefix).expect("write");
    let mut at = layout.prefix.len();
    for (spec, &offset) in specs.iter().zip(&layout.offsets) {
        file.write_all(&vec![0u8; offset - at + spec.byte_len]).expect("write");
        at = offset + spec.byte_len;
    }
    file.flush().expect("flush");
    path
}
