# syntax=docker/dockerfile:1
# paved's image: a build stage compiles TypeScript to dist/ (npm run build), a runtime stage holds
# Node.js, the production node_modules, dist/, the portal's bundle (web/dist/) and the files the controller reads at run time (crds/,
# analysis-templates/, deploy/admission/). It runs `node dist/main.js` as a non-root user.

FROM node:20-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY crds ./crds
COPY web ./web
# The controller to dist/, the developer portal's bundle to web/dist/.
RUN npm run build

# Only the runtime dependencies (no tsx, typescript, vitest or type packages).
FROM node:20-bookworm-slim AS deps
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund --ignore-scripts

FROM node:20-bookworm-slim AS runtime
WORKDIR /app
ENV NODE_ENV=production
COPY --from=deps /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY --from=build /src/web/dist ./web/dist
COPY package.json ./
COPY crds ./crds
COPY analysis-templates ./analysis-templates
COPY deploy/admission ./deploy/admission
# Not root: deploy/paved's Deployment runs as the same uid (and mounts the root filesystem read-only).
USER 65532:65532
EXPOSE 8080 8081
# The Deployment sets the same command explicitly.
CMD ["node", "dist/main.js"]
