//! Batches of work spread over threads, with results handed on in input
//! order: readers validate rows on every core and still report each
//! rejection with its own line, and the writer serialises providers on
//! every core and still writes them in order.

use std::collections::BTreeMap;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};

/// Rows (or records) per batch: enough to make the hand-over between
/// threads cheap (about 5–10 ms of work each), few enough that a batch in
/// flight costs little memory.
pub(super) const BATCH_ROWS: usize = 512;

/// The worker threads to use: one per core, at most 8.
pub(super) fn worker_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get().min(8))
}

/// Fills batches on the calling thread, runs `work` on each in `threads`
/// workers, and hands every batch with its result to `sink` on the calling
/// thread in the order the batches were filled. Batches are reused once
/// `sink` is done with them, so a steady stream allocates nothing per batch.
///
/// `fill` returns false, leaving the batch unused, when the input is
/// exhausted. With `threads <= 1` everything runs on the calling thread.
pub(super) fn in_order<B, R>(
    threads: usize,
    mut new_batch: impl FnMut() -> B,
    mut fill: impl FnMut(&mut B) -> bool,
    work: impl Fn(&mut B) -> R + Sync,
    mut sink: impl FnMut(&mut B, R),
) where
    B: Send,
    R: Send,
{
    if threads <= 1 {
        let mut batch = new_batch();
        while fill(&mut batch) {
            let result = work(&mut batch);
            sink(&mut batch, result);
        }
        return;
    }
    std::thread::scope(|scope| {
        // Bounded, so the reader cannot run far ahead of the workers.
        let (to_workers, from_filler) = mpsc::sync_channel::<(u64, B)>(threads * 2);
        // Shared by the workers only: when the last one stops, sending
        // fails instead of blocking.
        let from_filler = Arc::new(Mutex::new(from_filler));
        let (to_sink, from_workers) = mpsc::channel::<(u64, B, R)>();
        for _ in 0..threads {
            let from_filler = Arc::clone(&from_filler);
            let to_sink = to_sink.clone();
            let work = &work;
            scope.spawn(move || loop {
                let next = match from_filler.lock() {
                    Ok(receiver) => receiver.recv(),
                    // Another worker panicked while holding the lock; the
                    // scope re-raises that panic.
                    Err(_) => return,
                };
                let Ok((seq, mut batch)) = next else { return };
                let result = work(&mut batch);
                if to_sink.send((seq, batch, result)).is_err() {
                    return;
                }
            });
        }
        drop(to_sink);
        drop(from_filler);

        let mut spare: Vec<B> = Vec::new();
        let mut waiting: BTreeMap<u64, (B, R)> = BTreeMap::new();
        let mut next_out = 0u64;
        let mut deliver = |seq: u64, batch: B, result: R, spare: &mut Vec<B>| {
            waiting.insert(seq, (batch, result));
            while let Some((mut batch, result)) = waiting.remove(&next_out) {
                sink(&mut batch, result);
                spare.push(batch);
                next_out += 1;
            }
        };
        let mut sent = 0u64;
        loop {
            while let Ok((seq, batch, result)) = from_workers.try_recv() {
                deliver(seq, batch, result, &mut spare);
            }
            let mut batch = spare.pop().unwrap_or_else(&mut new_batch);
            if !fill(&mut batch) {
                break;
            }
            if to_workers.send((sent, batch)).is_err() {
                break; // every worker is gone: a panic the scope re-raises
            }
            sent += 1;
        }
        drop(to_workers);
        for (seq, batch, result) in from_workers {
            deliver(seq, batch, result, &mut spare);
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_arrive_in_input_order_whatever_the_thread_count() {
        for threads in [1, 2, 5] {
            let mut next = 0u32;
            let mut seen = Vec::new();
            in_order(
                threads,
                Vec::new,
                |batch: &mut Vec<u32>| {
                    batch.clear();
                    while next < 1000 && batch.len() < 7 {
                        batch.push(next);
                        next += 1;
                    }
                    !batch.is_empty()
                },
                |batch| {
                    // Uneven work, so batches finish out of order.
                    if batch[0] % 3 == 0 {
                        std::thread::sleep(std::time::Duration::from_micros(200));
                    }
                    batch.iter().map(|n| n * 2).collect::<Vec<_>>()
                },
                |_, result| seen.extend(result),
            );
            let expected: Vec<u32> = (0..1000).map(|n| n * 2).collect();
            assert_eq!(seen, expected, "{threads} threads");
        }
    }
}
