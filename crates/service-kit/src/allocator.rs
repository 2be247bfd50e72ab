//! The services' memory allocator: mimalloc, tuned to give memory back to the system.
//!
//! Under load a request allocates and frees many small values on two threads (the actix worker
//! and the blocking pool); glibc's malloc, free and the consolidation of its bins took a third of
//! the CPU of a `filesinfo` request. mimalloc does that work in a fraction of the time. Left at
//! its defaults it keeps what was freed for a second before returning it, and backs its arenas
//! with transparent huge pages: the 19 MiB block of the start-up's Argon2 hash stayed resident in
//! 2 MiB pages, and an idle OpenProject held 41 MiB instead of glibc's 18 MiB.
//!
//! Each binary names it and calls [`configure`] first thing in `main`:
//!
//! ```ignore
//! #[global_allocator]
//! static ALLOCATOR: service_kit::allocator::Allocator = service_kit::allocator::Allocator;
//! ```
//!
//! Huge pages are off at build time (the `no_thp` feature): that default must hold before `main`,
//! when the first arena is reserved.

use libmimalloc_sys as sys;

pub use mimalloc::MiMalloc as Allocator;

/// `mi_option_purge_delay`, which `libmimalloc-sys` does not name: in mimalloc's `mi_option_e`
/// (versions 2 and 3) it comes right before `mi_option_use_numa_nodes`, which it names. The test
/// below checks that the option found there has the purge delay's default.
const PURGE_DELAY: sys::mi_option_t = sys::mi_option_use_numa_nodes - 1;

/// Freed memory goes back to the system when it is freed, not a second later (and only if the
/// allocator is called again by then, which an idle process does not do).
pub fn configure() {
    // SAFETY: an option setter of the C library, callable at any time from any thread.
    unsafe { sys::mi_option_set(PURGE_DELAY, 0) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_purge_delay_option_is_the_one_before_use_numa_nodes() {
        // mimalloc's default purge delay is a second (1000 ms), which no option near it has.
        // SAFETY: an option getter of the C library, callable at any time from any thread.
        let default = unsafe { sys::mi_option_get(PURGE_DELAY) };
        assert_eq!(default, 1000);
    }
}
