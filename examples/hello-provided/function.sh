# The handler: $1 is the event; what it prints is the response.
function handler () {
  NAME=$(echo "$1" | sed -n 's/.*"name": *"\([^"]*\)".*/\1/p')
  echo "{\"message\": \"Hello, ${NAME:-world} from bash!\"}"
}
