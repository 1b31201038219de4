//! Splitting work across threads (rayon, behind the default-on `rayon` feature). Without the
//! feature, or inside a one-thread pool, everything runs on the calling thread.
//!
//! Linear layers split their rows (tokens) into one contiguous block per thread, so each thread
//! runs the kernel on its own rows with its own scratch and the results are bit-identical to a
//! single-threaded run; attention splits each sequence's query rows the same way.

/// Threads of the current rayon pool (1 without rayon).
pub(crate) fn threads() -> usize {
    #[cfg(feature = "rayon")]
    {
        rayon::current_num_threads()
    }
    #[cfg(not(feature = "rayon"))]
    {
        1
    }
}

/// Rows per block so that `rows` split into at most `threads` blocks, none smaller than `min`.
pub(crate) fn block_rows(rows: usize, threads: usize, min: usize) -> usize {
    rows.div_ceil(threads.max(1)).max(min).max(1)
}

/// Calls `f(i, block, state)` for each `block_len`-sized block of `data` (the last may be
/// shorter) with the `i`-th state, in parallel when rayon is on. `states` must have at least as
/// many entries as there are blocks.
pub(crate) fn for_each_block<T: Send, S: Send>(
    data: &mut [T],
    block_len: usize,
    states: &mut [S],
    f: impl Fn(usize, &mut [T], &mut S) + Sync + Send,
) {
    debug_assert!(states.len() >= data.len().div_ceil(block_len.max(1)));
    // One block (one thread, or too little work to split): no fork-join round trip.
    if data.len() <= block_len {
        if let (false, Some(state)) = (data.is_empty(), states.first_mut()) {
            f(0, data, state);
        }
        return;
    }
    #[cfg(feature = "rayon")]
    {
        use rayon::prelude::*;
        data.par_chunks_mut(block_len.max(1))
            .zip(states.par_iter_mut())
            .enumerate()
            .for_each(|(i, (block, state))| f(i, block, state));
    }
    #[cfg(not(feature = "rayon"))]
    {
        data.chunks_mut(block_len.max(1))
            .zip(states.iter_mut())
            .enumerate()
            .for_each(|(i, (block, state))| f(i, block, state));
    }
}

/// [`for_each_block`] over three equally long buffers cut at the same places: block `i` of each
/// goes to the same call (a layer's query, key and value outputs, computed together).
pub(crate) fn for_each_block3<T: Send, S: Send>(
    bufs: [&mut [T]; 3],
    block_len: usize,
    states: &mut [S],
    f: impl Fn(usize, [&mut [T]; 3], &mut S) + Sync + Send,
) {
    let [a, b, c] = bufs;
    debug_assert!(a.len() == b.len() && b.len() == c.len());
    debug_assert!(states.len() >= a.len().div_ceil(block_len.max(1)));
    if a.len() <= block_len {
        if let (false, Some(state)) = (a.is_empty(), states.first_mut()) {
            f(0, [a, b, c], state);
        }
        return;
    }
    let block_len = block_len.max(1);
    #[cfg(feature = "rayon")]
    {
        use rayon::prelude::*;
        a.par_chunks_mut(block_len)
            .zip(b.par_chunks_mut(block_len))
            .zip(c.par_chunks_mut(block_len))
            .zip(states.par_iter_mut())
            .enumerate()
            .for_each(|(i, (((a, b), c), state))| f(i, [a, b, c], state));
    }
    #[cfg(not(feature = "rayon"))]
    {
        a.chunks_mut(block_len)
            .zip(b.chunks_mut(block_len))
            .zip(c.chunks_mut(block_len))
            .zip(states.iter_mut())
            .enumerate()
            .for_each(|(i, (((a, b), c), state))| f(i, [a, b, c], state));
    }
}

/// [`for_each_block`] over four buffers of the same rows, each cut into blocks of its own
/// length (`(buffer, block_len)`: rows per block times the buffer's row width), block `i` of
/// each going to the same call.
pub(crate) fn for_each_block4<T: Send, S: Send>(
    bufs: [(&mut [T], usize); 4],
    states: &mut [S],
    f: impl Fn(usize, [&mut [T]; 4], &mut S) + Sync + Send,
) {
    let [(a, la), (b, lb), (c, lc), (d, ld)] = bufs.map(|(buf, len)| (buf, len.max(1)));
    debug_assert!(states.len() >= a.len().div_ceil(la));
    if a.len() <= la {
        if let (false, Some(state)) = (a.is_empty(), states.first_mut()) {
            f(0, [a, b, c, d], state);
        }
        return;
    }
    #[cfg(feature = "rayon")]
    {
        use rayon::prelude::*;
        a.par_chunks_mut(la)
            .zip(b.par_chunks_mut(lb))
            .zip(c.par_chunks_mut(lc))
            .zip(d.par_chunks_mut(ld))
            .zip(states.par_iter_mut())
            .enumerate()
            .for_each(|(i, ((((a, b), c), d), state))| f(i, [a, b, c, d], state));
    }
    #[cfg(not(feature = "rayon"))]
    {
        a.chunks_mut(la)
            .zip(b.chunks_mut(lb))
            .zip(c.chunks_mut(lc))
            .zip(d.chunks_mut(ld))
            .zip(states.iter_mut())
            .enumerate()
            .for_each(|(i, ((((a, b), c), d), state))| f(i, [a, b, c, d], state));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every element is visited once, in the block of its index, with that block's state: with
    /// rayon (the default) and, under `--no-default-features` (the firmware build, run by CI),
    /// through the serial branch.
    #[test]
    fn every_block_runs_once_with_its_own_state() {
        let mut data = vec![0usize; 10];
        let mut states = vec![0usize; 4];
        for_each_block(&mut data, 3, &mut states, |i, block, state| {
            *state += block.len();
            block.iter_mut().for_each(|x| *x += i + 1);
        });
        assert_eq!(data, [1, 1, 1, 2, 2, 2, 3, 3, 3, 4]);
        assert_eq!(states, [3, 3, 3, 1]);
    }
}
