/// Facts about this build of l2l.
public enum Library {
    /// The version, as `major.minor.patch` (the C header's L2L_VERSION_STRING).
    public static let version = "0.1.0"
}
