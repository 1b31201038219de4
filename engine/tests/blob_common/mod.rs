//! A small valid blob, built field by field so each rule test can break exactly one thing, and
//! (in `shaped`) blobs laid out like real converted models.
#![allow(dead_code)]

pub mod shaped;

use edgebert_engine::blob::encode::{seal, write_header, write_index, write_meta, RawTensor};
use edgebert_engine::blob::format::{self, Encoding, Layout};
use edgebert_engine::blob::{crc32c, MetaValue};

#[derive(Clone)]
pub struct Spec {
    pub meta: Vec<(String, MetaValue)>,
    /// Raw metadata entries appended after `meta`, with how many there are.
    pub raw_meta: (Vec<u8>, u32),
    pub tensors: Vec<RawTensor>,
    pub data: Vec<Vec<u8>>,
    /// Replaces tensor `i`'s computed offset.
    pub offset_override: Vec<(usize, u64)>,
    pub trailing_index: Vec<u8>,
    pub trailing_file: Vec<u8>,
}

fn tensor(name: &str, enc: Encoding, layout: Layout, shape: &[u64], data: &[u8]) -> RawTensor {
    RawTensor {
        name: name.as_bytes().to_vec(),
        encoding: enc.code(),
        layout: layout.code(),
        shape: shape.to_vec(),
        offset: 0,
        byte_len: data.len() as u64,
        data_crc32c: crc32c(data),
    }
}

pub fn f32_bytes(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

/// An int8 tensor's arrays at the 64-byte sub-offsets of FORMAT.md §5.
pub fn int8_bytes(q: &[i8], scales: &[f32], col_sums: Option<&[i32]>) -> Vec<u8> {
    let mut out: Vec<u8> = q.iter().map(|&x| x as u8).collect();
    out.resize(format::align64(out.len()).unwrap(), 0);
    out.extend(f32_bytes(scales));
    if let Some(sums) = col_sums {
        out.resize(format::align64(out.len()).unwrap(), 0);
        out.extend(sums.iter().flat_map(|x| x.to_le_bytes()));
    }
    out
}

/// Arrays of the `[3, 5]` int8 panel tensor `w` (values need not be a real quantization).
pub fn panel_fixture() -> (Vec<i8>, Vec<f32>, Vec<i32>) {
    let q: Vec<i8> = (0..128).map(|i| if i % 7 == 0 { 127 - i as i8 } else { 0 }).collect();
    let scales: Vec<f32> = (0..16).map(|j| if j < 3 { 0.1 * (j + 1) as f32 } else { 0.0 }).collect();
    let sums: Vec<i32> = (0..16).map(|j| if j < 3 { 11 + 63 * j } else { 0 }).collect();
    (q, scales, sums)
}

impl Spec {
    pub fn valid() -> Spec {
        let bias = f32_bytes(&[0.5, -1.0, 2.0]);
        // [3, 5] in panel16: 16 columns × 8 inputs of data, 16 scales, 16 column sums.
        let (q, scales, sums) = panel_fixture();
        let w = int8_bytes(&q, &scales, Some(&sums));
        let emb = int8_bytes(&[1, 2, 3, -4, -5, -6], &[0.5, 0.25], None);
        let tok = b"hello".to_vec();
        let tensors = vec![
            tensor("bias", Encoding::F32, Layout::RowMajor, &[3], &bias),
            tensor("w", Encoding::I8Channel, Layout::Panel16, &[3, 5], &w),
            tensor("emb", Encoding::I8Row, Layout::RowMajor, &[2, 3], &emb),
            tensor("tok", Encoding::U8, Layout::RowMajor, &[5], &tok),
        ];
        Spec {
            meta: vec![
                ("answer".into(), MetaValue::U64(42)),
                ("eps".into(), MetaValue::F64(1e-12)),
                ("flag".into(), MetaValue::Bool(true)),
                ("name".into(), MetaValue::Str("tiny".into())),
                ("labels".into(), MetaValue::StrList(vec!["neg".into(), "pos".into()])),
            ],
            raw_meta: (Vec::new(), 0),
            tensors,
            data: vec![bias, w, emb, tok],
            offset_override: Vec::new(),
            trailing_index: Vec::new(),
            trailing_file: Vec::new(),
        }
    }

    pub fn build(&self) -> Vec<u8> {
        let mut index = Vec::new();
        for (k, v) in &self.meta {
            write_meta(&mut index, k.as_bytes(), v);
        }
        index.extend_from_slice(&self.raw_meta.0);
        let tensor_index_at = index.len();
        index.extend(write_index(&[], &self.tensors));
        index.extend_from_slice(&self.trailing_index);
        let data_offset = format::align64(64 + index.len()).unwrap();
        let (mut at, mut offsets) = (data_offset, Vec::new());
        let mut data_end = data_offset;
        for d in &self.data {
            offsets.push(at as u64);
            data_end = at + d.len();
            at = format::align64(data_end).unwrap();
        }
        for &(i, o) in &self.offset_override {
            offsets[i] = o;
        }
        let tensors: Vec<RawTensor> =
            self.tensors.iter().zip(&offsets).map(|(t, &offset)| RawTensor { offset, ..t.clone() }).collect();
        index.truncate(tensor_index_at);
        index.extend(write_index(&[], &tensors));
        index.extend_from_slice(&self.trailing_index);
        let file_len = data_end + self.trailing_file.len();
        let meta_count = self.meta.len() as u32 + self.raw_meta.1;
        let mut file =
            write_header(file_len as u64, index.len() as u64, meta_count, self.tensors.len() as u32).to_vec();
        file.extend(index);
        for (d, &o) in self.data.iter().zip(&offsets) {
            let o = (o as usize).max(file.len());
            if o > file_len {
                continue; // a test that points a tensor past the end: nothing to place
            }
            file.resize(o, 0);
            file.extend_from_slice(d);
        }
        file.resize(data_end, 0);
        file.extend_from_slice(&self.trailing_file);
        file.truncate(file_len);
        seal(&mut file);
        file
    }
}

/// Sets a header field and reseals, so the checksum is not what fails.
pub fn patch(file: &mut [u8], at: usize, bytes: &[u8]) {
    file[at..at + bytes.len()].copy_from_slice(bytes);
    seal(file);
}
