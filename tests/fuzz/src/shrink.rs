//! Shrinking a failing run: remove chunks of steps (halves, then quarters, down to
//! single steps) as long as the replay still fails, so that what is left is a short
//! sequence that reproduces a failure (delta debugging).

use crate::{replay, Step};

/// The largest number of replays one shrink may take (each replay is a fresh machine).
const MAX_REPLAYS: usize = 2000;

/// A shorter sequence of steps from `steps` (which fail) that still fails.
pub fn shrink(steps: &[Step]) -> Vec<Step> {
    let mut cur = steps.to_vec();
    // Everything after the first failure is irrelevant.
    if let Err(f) = replay(&cur) {
        cur.truncate(f.step + 1);
    } else {
        // Not reproducible on a fresh machine: give back the whole run.
        return cur;
    }
    let mut replays = 1;
    let mut chunk = cur.len().div_ceil(2);
    while chunk >= 1 && replays < MAX_REPLAYS {
        let mut i = 0;
        let mut removed = false;
        while i < cur.len() && replays < MAX_REPLAYS {
            let end = (i + chunk).min(cur.len());
            let mut candidate = cur[..i].to_vec();
            candidate.extend_from_slice(&cur[end..]);
            replays += 1;
            match replay(&candidate) {
                Err(f) => {
                    candidate.truncate(f.step + 1);
                    cur = candidate;
                    removed = true;
                }
                Ok(()) => i += chunk,
            }
        }
        if !removed {
            if chunk == 1 {
                break;
            }
            chunk = chunk.div_ceil(2);
        }
    }
    cur
}
