# The loop-station worker (docker-compose.yml service loop-station-worker): loop-station installed
# as a user installs it (the tarball `npm pack` makes), and the agent CLIs its adapters are written
# against, at the versions pinned in activities/agents/cli-versions.ts (test/unit/compose.test.ts
# checks that these stay in step).

# Build stage: compile dist/, prebuild the workflow bundle (prepack) and pack the tarball.
FROM node:24-bookworm AS pack
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm pack --pack-destination /tmp && mv /tmp/loop-station-*.tgz /tmp/loop-station.tgz

# Runtime: a current LTS Node on full Debian, not -slim: loops run evidence commands and agents
# that expect git, curl, python3 and a C toolchain.
FROM node:24-bookworm
ENV NODE_ENV=production
ARG CODEX_VERSION=0.169.0
ARG CLAUDE_CODE_VERSION=2.1.330
COPY --from=pack /tmp/loop-station.tgz /tmp/loop-station.tgz
# @swc/core's install script checks its native binding (the bundler's fallback needs it).
RUN npm install -g --no-audit --no-fund --allow-scripts=@swc/core \
      /tmp/loop-station.tgz "@openai/codex@${CODEX_VERSION}" "@anthropic-ai/claude-code@${CLAUDE_CODE_VERSION}" \
  && rm /tmp/loop-station.tgz && npm cache clean --force \
  && loop-station --version && codex --version && claude --version

# Agent CLIs refuse to skip their permission prompts as root: run as the image's `node` user (uid 1000).
RUN mkdir -p /loops && chown node:node /loops
USER node
WORKDIR /loops

CMD ["loop-station", "worker", "--allow-root", "/loops"]
