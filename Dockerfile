# osbuild-koji-importer: build with the full Node 20 image, run on the minimal one with production dependencies.
ARG BUILD_IMAGE=registry.access.redhat.com/ubi9/nodejs-20:latest
ARG RUNTIME_IMAGE=registry.access.redhat.com/ubi9/nodejs-20-minimal:latest

FROM ${BUILD_IMAGE} AS build
USER 0
WORKDIR /src
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
RUN npm ci --no-audit --no-fund
COPY src ./src
# Compile, then replace node_modules with the production dependencies only (the optional kerberos addon is
# built here, where the compilers are, if its headers are available).
RUN npm run build && npm ci --omit=dev --no-audit --no-fund

FROM ${RUNTIME_IMAGE} AS runtime
ARG VERSION=0.1.0
ARG SOURCE=https://github.com/osbuild/osbuild-koji-importer
LABEL org.opencontainers.image.title="osbuild-koji-importer" \
      org.opencontainers.image.description="Imports finished osbuild-composer Koji composes into Koji (CGImport)" \
      org.opencontainers.image.source="${SOURCE}" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.licenses="Apache-2.0"
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY package.json ./
COPY migrations ./migrations
# Nothing is written outside /tmp, so the root filesystem can be read-only.
USER 1001
EXPOSE 8080
# node is PID 1 and handles SIGTERM itself (src/service/signals.ts): no shell or npm in between to swallow it.
ENTRYPOINT ["node", "dist/cli.js"]
CMD ["start"]
