# Which source repositories an organisation trusts: the one reading of
# supply_chain.allowed_source_repos, for the rules that judge where the promoted code came from
# (provenance) and how it was merged (branch protection). The built-in rule data lists none.
#
# Library files import nothing (see README.md): other libraries are named by their full path.
package affidavit.lib.repos

# normalize(s) is a repository as host/owner/name (or owner/name when s names no host), lower
# case: drops "git+", the scheme, "git@", a trailing "@ref", "/" and ".git", so that
# github.com/acme/shop, https://github.com/acme/shop.git and git+https://github.com/acme/shop@refs/heads/main
# are the same repository.
normalize(s) := trim_suffix(trim_suffix(split(replace(trim_prefix(_no_scheme(lower(trim_space(s))), "git@"), ":", "/"), "@")[0], "/"), ".git") if is_string(s)

_no_scheme(s) := split(trim_prefix(s, "git+"), "://")[1] if contains(s, "://")

else := trim_prefix(s, "git+")

# owner_name(s) is the owner/name part of a repository (its last two path segments).
owner_name(s) := concat("/", array.slice(parts, count(parts) - 2, count(parts))) if {
	parts := split(normalize(s), "/")
	count(parts) >= 2
}

_listed := [a | some a in data.affidavit.lib.params.optional_list("supply_chain", "allowed_source_repos"); is_string(a)]

# allowed(repo) is true when rule data lists repo (host, owner and name compared whole).
allowed(repo) if {
	is_string(repo)
	some a in _listed
	normalize(a) == normalize(repo)
}

# allowed_by_name(repo) is true for a repository named as owner/name without its host (GitHub's
# branch-protection API names it so) when a listed repository has that owner/name; a repository
# with a host must be listed as such.
allowed_by_name(repo) if {
	is_string(repo)
	count(split(normalize(repo), "/")) == 2
	some a in _listed
	owner_name(a) == normalize(repo)
}

allowed_by_name(repo) if allowed(repo)

# empty is true while rule data lists no repository (the built-in rule data lists none).
empty if data.affidavit.lib.params.empty("supply_chain", "allowed_source_repos")

# unconfigured is the `missing` entry of a rule that needs the organisation's repositories.
unconfigured := data.affidavit.lib.params.unconfigured("trusted source repositories", "supply_chain.allowed_source_repos (your repositories, such as github.com/<owner>/<repo>)")
