//! The fixed numbers of docs/FORMAT.md: magic, version, limits, encodings and layouts, and the
//! byte length and sub-array placement each encoding implies. Shared by the reader and by the
//! encoder the converter writes with, so both sides compute sizes with the same code.

/// `\x89EBQ\r\n\x1a\n`: non-ASCII first byte, CR LF and ^Z catch text-mode mangling (as PNG).
pub const MAGIC: [u8; 8] = [0x89, b'E', b'B', b'Q', b'\r', b'\n', 0x1A, b'\n'];
/// The newest format version this reader implements (FORMAT.md §9). It reads every version from
/// [`MIN_VERSION`] on; the encoder writes the oldest version that has every encoding a blob
/// uses ([`Encoding::since`]), so a blob without int4 tensors still opens in version-1 engines.
pub const VERSION: u32 = 2;
/// The oldest format version this reader implements.
pub const MIN_VERSION: u32 = 1;
pub const HEADER_LEN: usize = 64;
/// Every tensor and every sub-array starts at a multiple of this (FORMAT.md §1, T8).
pub const ALIGN: usize = 64;
/// Byte offset of `index_crc32c` in the header; the checksum covers the bytes before it.
pub const CHECKSUM_AT: usize = 60;

pub const MAX_INDEX_LEN: u64 = 16 << 20;
pub const MAX_TENSORS: u32 = 65_536;
pub const MAX_METADATA: u32 = 4_096;
pub const MAX_NAME_LEN: usize = 256;
pub const MAX_KEY_LEN: usize = 128;
pub const MAX_RANK: usize = 4;

/// Weight panel width of the `panel16` layout (output columns per panel).
pub const PANEL: usize = 16;

/// `x` rounded up to a multiple of [`ALIGN`], or `None` on overflow.
pub fn align64(x: usize) -> Option<usize> {
    x.checked_add(ALIGN - 1).map(|v| v / ALIGN * ALIGN)
}

/// How a tensor's values are stored (FORMAT.md §5). A closed list: a new one is a new version.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Encoding {
    F32,
    F16,
    /// Linear weight `[n, k]`, symmetric int8 per output channel, with f32 scales and i32 column
    /// sums.
    I8Channel,
    /// Embedding table `[rows, cols]`, symmetric int8 per row, with an f32 scale per row.
    I8Row,
    /// Opaque bytes (the tokenizer file).
    U8,
    /// Linear weight `[n, k]`, symmetric int4 in groups of 32 inputs with an f16 scale per
    /// (output channel, group), and f32 dequantized row sums (format version 2).
    I4Group,
    /// Embedding table `[rows, cols]`, symmetric int4 in groups of 32 columns of a row, with an
    /// f16 scale per (row, group): nibbles in element order, two per byte, `ceil(cols / 2)`
    /// bytes a row (format version 2).
    I4RowGroup,
}

impl Encoding {
    pub const ALL: [Encoding; 7] =
        [Self::F32, Self::F16, Self::I8Channel, Self::I8Row, Self::U8, Self::I4Group, Self::I4RowGroup];

    pub fn code(self) -> u8 {
        match self {
            Self::F32 => 1,
            Self::F16 => 2,
            Self::I8Channel => 3,
            Self::I8Row => 4,
            Self::U8 => 5,
            Self::I4Group => 6,
            Self::I4RowGroup => 7,
        }
    }

    pub fn from_code(code: u8) -> Option<Encoding> {
        Self::ALL.into_iter().find(|e| e.code() == code)
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::F32 => "f32",
            Self::F16 => "f16",
            Self::I8Channel => "i8_channel",
            Self::I8Row => "i8_row",
            Self::U8 => "u8",
            Self::I4Group => "i4_group",
            Self::I4RowGroup => "i4_row_group",
        }
    }

    /// The format version that introduced this encoding: a file of an older version that uses
    /// it is invalid (T3), and a writer stamps the newest `since` of its tensors (§9).
    pub fn since(self) -> u32 {
        match self {
            Self::I4Group | Self::I4RowGroup => 2,
            _ => 1,
        }
    }

    /// Whether `layout` is allowed for this encoding (T4). int8 linear weights exist only in the
    /// kernels' panels: a row-major variant would have to be repacked at load, which the format
    /// exists to avoid. Tables (`i8_row`, `i4_row_group`) exist only row-major: a row is gathered
    /// on its own.
    pub fn allows_layout(self, layout: Layout) -> bool {
        match layout {
            Layout::RowMajor => !matches!(self, Self::I8Channel | Self::I4Group),
            Layout::Panel16 => matches!(self, Self::F32 | Self::F16 | Self::I8Channel | Self::I4Group),
        }
    }

    /// Whether `rank` is allowed for this encoding and layout (T5).
    pub fn allows_rank(self, layout: Layout, rank: usize) -> bool {
        match (self, layout) {
            (Self::F32 | Self::F16, Layout::RowMajor) => (1..=MAX_RANK).contains(&rank),
            (Self::U8, _) => rank == 1,
            _ => rank == 2,
        }
    }
}

impl std::fmt::Display for Encoding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// The order of elements inside a tensor's data (FORMAT.md §5).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Layout {
    RowMajor,
    /// The kernels' packed weight panels of 16 output columns.
    Panel16,
}

impl Layout {
    pub fn code(self) -> u8 {
        match self {
            Self::RowMajor => 0,
            Self::Panel16 => 1,
        }
    }

    pub fn from_code(code: u8) -> Option<Layout> {
        [Self::RowMajor, Self::Panel16].into_iter().find(|l| l.code() == code)
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::RowMajor => "row_major",
            Self::Panel16 => "panel16",
        }
    }
}

impl std::fmt::Display for Layout {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Where each array of a tensor sits, in bytes relative to the tensor's offset, and its element
/// count. Single-array encodings have only `data`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Parts {
    /// Elements of the main array (values, int8 weights, or bytes).
    pub data_len: usize,
    /// Offset and element count of the scales (f32 for the int8 encodings, f16 for `i4_group`
    /// and `i4_row_group`).
    pub scales: Option<(usize, usize)>,
    /// Offset and element count of the column sums (i32 for `i8_channel`; f32 dequantized row
    /// sums for `i4_group`).
    pub col_sums: Option<(usize, usize)>,
    /// Total byte length: what T7 requires of `byte_len`.
    pub byte_len: usize,
}

/// The arrays and byte length an encoding, layout and shape imply, or `None` when a size
/// overflows `usize` (T6). Rank and layout must already be allowed for the encoding.
pub fn parts(encoding: Encoding, layout: Layout, shape: &[usize]) -> Option<Parts> {
    let count = shape.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d))?;
    let single = |elem: usize, n: usize| {
        Some(Parts { data_len: n, scales: None, col_sums: None, byte_len: n.checked_mul(elem)? })
    };
    let elem = match encoding {
        Encoding::F32 => 4,
        Encoding::F16 => 2,
        _ => 1,
    };
    match (encoding, layout, shape) {
        (Encoding::F32 | Encoding::F16 | Encoding::U8, Layout::RowMajor, _) => single(elem, count),
        (Encoding::F32 | Encoding::F16, Layout::Panel16, &[n, k]) => {
            single(elem, n.div_ceil(PANEL).checked_mul(PANEL)?.checked_mul(k)?)
        }
        (Encoding::I8Channel, Layout::Panel16, &[n, k]) => {
            let (cols, depth) = (n.div_ceil(PANEL).checked_mul(PANEL)?, k.div_ceil(4).checked_mul(4)?);
            let data_len = cols.checked_mul(depth)?;
            let scales_at = align64(data_len)?;
            let sums_at = align64(scales_at.checked_add(cols.checked_mul(4)?)?)?;
            let byte_len = sums_at.checked_add(cols.checked_mul(4)?)?;
            Some(Parts {
                data_len,
                scales: Some((scales_at, cols)),
                col_sums: Some((sums_at, cols)),
                byte_len,
            })
        }
        (Encoding::I4Group, Layout::Panel16, &[n, k]) => {
            let (cols, groups) = (n.div_ceil(PANEL).checked_mul(PANEL)?, k.div_ceil(32));
            let scale_count = cols.checked_mul(groups)?;
            let data_len = scale_count.checked_mul(16)?;
            let scales_at = align64(data_len)?;
            let sums_at = align64(scales_at.checked_add(scale_count.checked_mul(2)?)?)?;
            let byte_len = sums_at.checked_add(cols.checked_mul(4)?)?;
            Some(Parts {
                data_len,
                scales: Some((scales_at, scale_count)),
                col_sums: Some((sums_at, cols)),
                byte_len,
            })
        }
        (Encoding::I4RowGroup, Layout::RowMajor, &[rows, cols]) => {
            let scale_count = rows.checked_mul(cols.div_ceil(32))?;
            let data_len = rows.checked_mul(cols.div_ceil(2))?;
            let scales_at = align64(data_len)?;
            let byte_len = scales_at.checked_add(scale_count.checked_mul(2)?)?;
            Some(Parts { data_len, scales: Some((scales_at, scale_count)), col_sums: None, byte_len })
        }
        (Encoding::I8Row, Layout::RowMajor, &[rows, _]) => {
            let scales_at = align64(count)?;
            let byte_len = scales_at.checked_add(rows.checked_mul(4)?)?;
            Some(Parts { data_len: count, scales: Some((scales_at, rows)), col_sums: None, byte_len })
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_are_distinct() {
        for e in Encoding::ALL {
            assert_eq!(Encoding::from_code(e.code()), Some(e));
        }
        assert_eq!(Encoding::from_code(0), None);
        assert_eq!(Layout::from_code(Layout::Panel16.code()), Some(Layout::Panel16));
        assert_eq!(Layout::from_code(2), None);
    }

    #[test]
    fn int8_channel_parts_are_aligned_and_sized_as_documented() {
        assert_eq!(parts(Encoding::I8Channel, Layout::RowMajor, &[3, 5]), None);
        let p = parts(Encoding::I8Channel, Layout::Panel16, &[3, 5]).unwrap();
        assert_eq!(
            (p.data_len, p.scales, p.col_sums, p.byte_len),
            (128, Some((128, 16)), Some((192, 16)), 256)
        );
        // 17 columns -> 2 panels (32 columns); k = 5 -> depth 8.
        let p = parts(Encoding::I8Channel, Layout::Panel16, &[17, 5]).unwrap();
        assert_eq!(
            (p.data_len, p.scales, p.col_sums, p.byte_len),
            (256, Some((256, 32)), Some((384, 32)), 512)
        );
        let p = parts(Encoding::I8Row, Layout::RowMajor, &[2, 3]).unwrap();
        assert_eq!((p.data_len, p.scales, p.byte_len), (6, Some((64, 2)), 72));
        assert_eq!(parts(Encoding::F16, Layout::Panel16, &[17, 3]).unwrap().byte_len, 2 * 32 * 3);
        // int4: 17 columns -> 32; k = 40 -> 2 groups: 32·2·16 data bytes, 64 f16 scales, 32 sums.
        let p = parts(Encoding::I4Group, Layout::Panel16, &[17, 40]).unwrap();
        assert_eq!(
            (p.data_len, p.scales, p.col_sums, p.byte_len),
            (1024, Some((1024, 64)), Some((1152, 32)), 1280)
        );
        assert_eq!(parts(Encoding::I4Group, Layout::RowMajor, &[17, 40]), None);
        assert_eq!(parts(Encoding::I4Group, Layout::Panel16, &[usize::MAX, 64]), None);
        // int4 tables: 3 rows of 41 columns -> 21 bytes a row (the last high nibble is padding),
        // 2 groups per row: 63 data bytes, then 6 f16 scales at 64.
        let p = parts(Encoding::I4RowGroup, Layout::RowMajor, &[3, 41]).unwrap();
        assert_eq!((p.data_len, p.scales, p.col_sums, p.byte_len), (63, Some((64, 6)), None, 76));
        assert_eq!(parts(Encoding::I4RowGroup, Layout::Panel16, &[3, 40]), None);
        assert_eq!(parts(Encoding::I4RowGroup, Layout::RowMajor, &[3, 40, 1]), None);
        assert_eq!(parts(Encoding::I4RowGroup, Layout::RowMajor, &[usize::MAX / 8, 64]), None);
        assert_eq!(parts(Encoding::I4RowGroup, Layout::RowMajor, &[usize::MAX / 2, 5]), None);
    }

    /// FORMAT.md describes the kernels' layout in its own words; this holds the two together.
    #[test]
    fn panel_sizes_agree_with_the_kernels_packing() {
        use edgebert_kernels::packed::{packed_float_lens, packed_i8_lens};
        for n in [1, 2, 15, 16, 17, 31, 33, 384, 1536] {
            for k in [1, 3, 4, 5, 8, 384, 1537] {
                let lens = packed_i8_lens(n, k);
                let p = parts(Encoding::I8Channel, Layout::Panel16, &[n, k]).unwrap();
                assert_eq!(
                    (p.data_len, p.scales.unwrap().1, p.col_sums.unwrap().1),
                    (lens.data, lens.per_column, lens.per_column)
                );
                let f = parts(Encoding::F16, Layout::Panel16, &[n, k]).unwrap();
                assert_eq!(f.data_len, packed_float_lens(n, k).data);
                let lens = edgebert_kernels::packed_i4::packed_i4_lens(n, k);
                let p = parts(Encoding::I4Group, Layout::Panel16, &[n, k]).unwrap();
                assert_eq!(
                    (p.data_len, p.scales.unwrap().1, p.col_sums.unwrap().1),
                    (lens.data, lens.scales, lens.w_sums)
                );
            }
        }
    }

    #[test]
    fn overflowing_shapes_give_none() {
        assert_eq!(parts(Encoding::F32, Layout::RowMajor, &[usize::MAX, 2]), None);
        assert_eq!(parts(Encoding::I8Channel, Layout::Panel16, &[usize::MAX, 1]), None);
        assert_eq!(align64(usize::MAX), None);
    }
}
