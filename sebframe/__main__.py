from sebframe.cli import main

main()
