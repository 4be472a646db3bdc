# syntax=docker/dockerfile:1
# The tlsgate image: one binary (`tlsgate`) for the operator (`tlsgate operator`) and the
# per-Gateway proxies (`tlsgate proxy`). Node 24 LTS; runs as a non-root numeric user so
# that `runAsNonRoot` can be verified by the kubelet; needs no writable root filesystem.

# Tests build on a base assembled locally (no registry there); users keep the default.
ARG BASE_IMAGE=node:24-bookworm-slim

FROM ${BASE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json cdk8s.yaml ./
COPY src ./src
COPY cli ./cli
COPY operator ./operator
COPY proxy ./proxy
COPY imports ./imports
COPY bin ./bin
# tsconfig includes these folders; the image does not ship them.
RUN mkdir -p test examples bench install \
 && npx tsc -p tsconfig.json --rootDir . --outDir dist \
 && npm prune --omit=dev --no-audit --no-fund

FROM ${BASE_IMAGE}
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /src/package.json ./
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/bin ./bin
COPY --from=build /src/dist/src ./dist/src
COPY --from=build /src/dist/cli ./dist/cli
COPY --from=build /src/dist/operator ./dist/operator
COPY --from=build /src/dist/proxy ./dist/proxy
COPY --from=build /src/dist/imports ./dist/imports
USER 65532:65532
ENTRYPOINT ["node", "/app/bin/tlsgate.js"]
CMD ["--help"]
