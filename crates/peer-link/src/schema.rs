diesel::table! {
    pairing_keys (kid) {
        kid -> Text,
        seed_sealed -> Text,
        created_at -> BigInt,
    }
}
