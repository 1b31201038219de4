//! One shared `Model`, many threads, each with its own `Session`: every result equals the
//! single-threaded result for the same input; none is lost or swapped.

mod common;

use common::asset;
use edgebert_convert::blob::{convert_dir, Recipe};
use edgebert_engine::Model;

const THREADS: usize = 8;
/// 60 requests of 1 to 3 texts: each thread's start walks all 40 texts (r * 7 mod 40) and the
/// 8 threads interleave for the whole run on 2 cores (200 requests cost 22 s of CPU in CI).
const REQUESTS: usize = 60;

/// Inputs of mixed lengths: 0 to ~60 words.
fn texts() -> Vec<String> {
    let words =
        ["the", "film", "is", "a", "quiet", "triumph", "of", "tedious", "excess", "and", "warm", "humour"];
    (0..40)
        .map(|i| (0..(i * 37 % 61)).map(|j| words[(i + j * 5) % words.len()]).collect::<Vec<_>>().join(" "))
        .collect()
}

#[test]
#[cfg_attr(
    edgebert_no_assets,
    ignore = "needs ../shared/assets/models/minilm-l6-rt-sentiment (README: Tests)"
)]
fn shared_model_gives_identical_results_across_threads() {
    let Some(hf) = asset("models/minilm-l6-rt-sentiment") else { return };
    let dir = std::env::temp_dir().join(format!("edgebert-threads-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("sentiment-int8.ebq");
    convert_dir(&hf, &path, Recipe::default(), true, &mut |_| {}).expect("converts");
    let model = Model::open(&path).expect("opens");
    let texts = texts();
    let expected: Vec<Vec<f32>> = {
        let mut session = model.session();
        texts.iter().map(|t| session.classify(&[t.as_str()]).unwrap().remove(0).logits).collect()
    };
    let model = &model;
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..THREADS)
            .map(|t| {
                let (texts, expected) = (&texts, &expected);
                scope.spawn(move || {
                    let mut session = model.session();
                    let mut done = 0;
                    for r in 0..REQUESTS {
                        // Mix single requests and small batches, in a different order per thread.
                        let first = (r * 7 + t * 13) % texts.len();
                        let picks: Vec<usize> =
                            (0..1 + r % 3).map(|j| (first + j * 11) % texts.len()).collect();
                        let batch: Vec<&str> = picks.iter().map(|&i| texts[i].as_str()).collect();
                        let got = session.classify(&batch).expect("classifies");
                        assert_eq!(got.len(), picks.len(), "thread {t} request {r}: lost results");
                        for (g, &i) in got.iter().zip(&picks) {
                            assert_eq!(g.logits, expected[i], "thread {t} request {r}: text {i} differs");
                        }
                        done += 1;
                    }
                    done
                })
            })
            .collect();
        let total: usize = workers.into_iter().map(|w| w.join().expect("no thread panicked")).sum();
        assert_eq!(total, THREADS * REQUESTS);
    });
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn model_is_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Model>();
}
