from meadhall.cli import main

main()
