# osbuild-koji-importer: build with the full Node.js 24 (LTS) image, run on the minimal one with production dependencies.
ARG BUILD_IMAGE=registry.access.redhat.com/ubi9/nodejs-24:latest
ARG RUNTIME_IMAGE=registry.access.redhat.com/ubi9/nodejs-24-minimal:latest

FROM ${BUILD_IMAGE} AS build
USER 0
# The optional `kerberos` addon (Koji auth gssapi) builds from source: MIT Kerberos's headers and a C++ toolchain.
# Without the headers npm leaves the addon out without a word, hence the check after each npm ci.
RUN dnf install -y --setopt=install_weak_deps=0 krb5-devel gcc-c++ make python3 && dnf clean all
WORKDIR /src
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
RUN npm ci --no-audit --no-fund && node -e "require('kerberos')"
COPY src ./src
# Compile, then replace node_modules with the production dependencies only.
RUN npm run build && npm ci --omit=dev --no-audit --no-fund && node -e "require('kerberos')"

FROM ${RUNTIME_IMAGE} AS runtime
# The version lives in package.json alone (the service reads it there at run time); the label takes it from the
# build: --build-arg VERSION="$(node -p "require('./package.json').version")".
ARG VERSION=unset
ARG SOURCE=https://github.com/osbuild/osbuild-koji-importer
LABEL org.opencontainers.image.title="osbuild-koji-importer" \
      org.opencontainers.image.description="Imports finished osbuild-composer Koji composes into Koji (CGImport)" \
      org.opencontainers.image.source="${SOURCE}" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.licenses="Apache-2.0"
ENV NODE_ENV=production
# libgssapi_krb5, libkrb5 and libcom_err, which the kerberos addon dlopens when it loads (no kinit or
# krb5-workstation: the keytab is enough).
RUN microdnf install -y --setopt=install_weak_deps=0 krb5-libs && microdnf clean all
WORKDIR /app
COPY --from=build /src/node_modules ./node_modules
# The image fails to build unless the addon loads here, with this image's libraries.
RUN node -e "require('kerberos')"
COPY --from=build /src/dist ./dist
COPY package.json ./
COPY migrations ./migrations
# Nothing is written outside /tmp, so the root filesystem can be read-only.
USER 1001
EXPOSE 8080
# node is PID 1 and handles SIGTERM itself (src/service/signals.ts): no shell or npm in between to swallow it.
ENTRYPOINT ["node", "dist/cli.js"]
CMD ["start"]
