use std::cell::Cell;

use flagset::{flags, FlagSet};

flags! {
    /// Flags for the grab function, controlling different heuristics for content extraction.
    pub enum GrabFlags: u8 {
        /// Removes elements that are unlikely to be part of the main content.
        StripUnlikelys,
        /// Considers element class and id attributes when calculating content scores.
        WeightClasses,
        /// Applies additional content cleaning after identifying the main content.
        CleanConditionally,
    }
}

// newswatch patch: which flags changed anything in the extraction attempt running on this
// thread. An attempt without a flag that changed nothing runs exactly as the attempt with
// it did, so `grab_article` skips it (see `vendor/dom_smoothie/PATCHED.md`).
thread_local! {
    static EFFECTIVE: Cell<FlagSet<GrabFlags>> = Cell::new(FlagSet::default());
}

/// Records that `flag` changed something in the running attempt (newswatch patch).
pub(crate) fn note_effect(flag: GrabFlags) {
    EFFECTIVE.with(|e| e.set(e.get() | flag));
}

/// The flags that changed something since the last call, cleared (newswatch patch).
pub(crate) fn take_effects() -> FlagSet<GrabFlags> {
    EFFECTIVE.with(|e| e.replace(FlagSet::default()))
}

#[cfg(test)]
mod tests {
    use flagset::FlagSet;

    use super::*;

    #[test]
    fn test_grab_flags() {
        let mut flags: FlagSet<GrabFlags> = FlagSet::full();
        assert!(flags.contains(GrabFlags::StripUnlikelys));
        flags -= GrabFlags::StripUnlikelys;
        assert!(!flags.contains(GrabFlags::StripUnlikelys));
    }
}
