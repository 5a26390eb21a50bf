package affidavit.lib.repos_test

import data.affidavit.lib.repos
import data.affidavit.lib.testing

_listing(entries) := testing.input_for({}, "prod", {"supply_chain": {"allowed_source_repos": entries}})

test_one_repository_however_it_is_written if {
	repos.normalize("git+https://github.com/Acme/Shop.git@refs/heads/main") == "github.com/acme/shop"
	repos.normalize("git@github.com:acme/shop.git") == "github.com/acme/shop"
	repos.normalize(" https://github.com/acme/shop/ ") == "github.com/acme/shop"
	repos.owner_name("https://github.com/acme/shop") == "acme/shop"
	not repos.owner_name("shop")
	not repos.normalize(7)
}

test_a_repository_with_its_host_is_compared_whole if {
	inp := _listing(["github.com/acme/shop"])
	repos.allowed("https://github.com/acme/shop.git") with input as inp
	not repos.allowed("https://ghe.example.com/acme/shop") with input as inp
	not repos.allowed("https://github.com/acme/shop-fork") with input as inp
	not repos.allowed(null) with input as inp
}

test_a_repository_named_without_its_host_matches_by_owner_and_name if {
	inp := _listing(["https://github.com/acme/shop", 7])
	repos.allowed_by_name("acme/shop") with input as inp
	repos.allowed_by_name("ACME/shop") with input as inp
	repos.allowed_by_name("github.com/acme/shop") with input as inp
	not repos.allowed_by_name("acme/shop-fork") with input as inp
	not repos.allowed_by_name("evil.example/acme/shop") with input as inp
	not repos.allowed_by_name("shop") with input as inp
	not repos.allowed_by_name(null) with input as inp
}

test_nothing_is_allowed_while_nothing_is_listed if {
	inp := _listing([])
	repos.empty with input as inp
	not repos.allowed_by_name("acme/shop") with input as inp
	not repos.empty with input as _listing(["github.com/acme/shop"])
}
