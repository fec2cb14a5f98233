//! Ctrl-C. The first press asks the run to stop: the reader stops, the models stop between
//! batches, and the documents already finished are written out. The second press exits at once
//! (every file claimex writes is renamed into place whole, so an exit at any moment is safe).

use std::sync::atomic::{AtomicUsize, Ordering};

static PRESSES: AtomicUsize = AtomicUsize::new(0);

/// Installs the handler; a second call (a second run in one process, as in tests) keeps the first.
pub fn install() {
    let _ = ctrlc::set_handler(|| {
        if PRESSES.fetch_add(1, Ordering::SeqCst) == 0 {
            eprintln!("claimex: stopping after the batch in flight; press Ctrl-C again to quit at once");
        } else {
            // _exit, not exit: exit would run libtorch's C++ destructors under the model thread's
            // feet. Nothing is lost: every file claimex writes is renamed into place whole.
            // SAFETY: _exit ends the process at once; it touches no Rust state.
            unsafe { libc::_exit(130) };
        }
    });
}

/// Whether Ctrl-C was pressed.
pub fn requested() -> bool {
    PRESSES.load(Ordering::SeqCst) > 0
}
