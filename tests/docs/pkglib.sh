# pkglib.sh - build the packages once for the package tests (t_deb.sh,
# t_rpm.sh)
#
# Source it after testlib.sh, with b (build dir), s (source dir) and t (a
# private temp dir) set. Packages are built from a clean copy of the
# sources ("make distdir" into $t: the source tree is never written) and
# kept in $TG_PKG_CACHE (default /var/tmp/targrey-milter-pkg) under a
# hash of that copy, so CI's plain and sanitizer phases, and the two
# tests, build each package once; a lock serialises the builds.
#   pkg_init      sets version, arch, src (the copy), key, cache
#   pkg_deb       sets deb (and dbgsym): build with DEB_BUILD_OPTIONS=nocheck
#   pkg_rpm       sets rpm: rpmbuild -bb --nodeps --nocheck from a tarball
# Each returns non-zero, with the build's log tail printed, on failure.

pkg_init() {
	version=$(sed -n 's/^PACKAGE_VERSION = //p' "$b/Makefile")
	arch=$(dpkg --print-architecture)
	src="$t/targrey-milter-$version"
	${MAKE:-make} -s -C "$b" distdir distdir="$src" top_distdir="$src" \
	    >"$t/distdir.out" 2>&1 || { cat "$t/distdir.out"; return 1; }
	key=$(cd "$src" && find . -type f -print0 | sort -z | xargs -0 sha256sum |
	    sha256sum | cut -c1-16)
	cache=${TG_PKG_CACHE:-/var/tmp/targrey-milter-pkg}
	mkdir -p "$cache" 2>/dev/null && [ -w "$cache" ] || cache="$t/cache"
	mkdir -p "$cache/$key"
}

# pkg_locked CMD...: run CMD holding the cache's lock; drop other keys.
pkg_locked() {
	(
		flock 9
		for d in "$cache"/*; do
			[ "$d" = "$cache/$key" ] || [ "$d" = "$cache/lock" ] || rm -rf "$d"
		done
		"$@"
	) 9>"$cache/lock"
}

pkg_deb_build() {
	[ -f "$deb" ] && { echo "reusing $deb"; return 0; }
	start=$(date +%s)
	rm -rf "$t/debsrc" && cp -a "$src" "$t/debsrc" || return 1
	(cd "$t/debsrc" && DEB_BUILD_OPTIONS="nocheck parallel=2" \
	    dpkg-buildpackage -us -uc -b) >"$t/deb-build.out" 2>&1 \
	    || { tail -40 "$t/deb-build.out"; return 1; }
	cp "$t"/*.deb "$cache/$key/" || return 1
	echo "built $deb in $(( $(date +%s) - start )) s"
}

pkg_deb() {
	deb="$cache/$key/targrey-milter_${version}_$arch.deb"
	dbgsym="$cache/$key/targrey-milter-dbgsym_${version}_$arch.deb"
	pkg_locked pkg_deb_build
}

# Debian's rpm lacks the systemd and sysusers macros of RHEL's
# systemd-rpm-macros: give the paths, make the scriptlets empty. Its
# documentation directories are NAME-VERSION; RHEL 9's are NAME.
pkg_rpm_defines() {
	echo "_docdir_fmt %{NAME}"
	for m in "_unitdir /usr/lib/systemd/system" "_sysusersdir /usr/lib/sysusers.d" \
	    "systemd_post() %{nil}" "systemd_preun() %{nil}" \
	    "systemd_postun_with_restart() %{nil}" "sysusers_create_compat() %{nil}"; do
		name=${m%% *}; name=${name%"()"}
		[ "$(rpm --eval "%{?$name:1}")" = 1 ] || printf '%s\n' "$m"
	done
}

pkg_rpm_build() {
	[ -f "$rpm" ] && { echo "reusing $rpm"; return 0; }
	start=$(date +%s)
	top="$t/rpmbuild"
	mkdir -p "$top/SOURCES" || return 1
	tar -C "$t" -czf "$top/SOURCES/targrey-milter-$version.tar.gz" "targrey-milter-$version" &&
	    cp "$src/contrib/targrey-milter.sysusers" "$top/SOURCES/" || return 1
	pkg_rpm_defines > "$t/rpm-defines"
	set -- --define "_topdir $top" --define "debug_package %{nil}"
	while read -r d; do set -- "$@" --define "$d"; done < "$t/rpm-defines"
	HOME=$t rpmbuild -bb --nodeps --nocheck "$@" "$src/contrib/targrey-milter.spec" \
	    >"$t/rpm-build.out" 2>&1 || { tail -40 "$t/rpm-build.out"; return 1; }
	cp "$top"/RPMS/*/targrey-milter-"$version"-*.rpm "$rpm" || return 1
	echo "built $rpm in $(( $(date +%s) - start )) s"
}

pkg_rpm() {
	rpm="$cache/$key/targrey-milter-$version.rpm"
	pkg_locked pkg_rpm_build
}
