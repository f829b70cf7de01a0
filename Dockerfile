# The helpline binary in a small image. Build: docker build -t helpline .
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /helpline ./cmd/helpline

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /helpline /helpline
USER nonroot:nonroot
EXPOSE 8080
ENV HELPLINE_ADDR=:8080
ENTRYPOINT ["/helpline"]
CMD ["serve"]
